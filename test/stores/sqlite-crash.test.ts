import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { bundleScript } from '../helpers/bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-sqlite-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the writer, kills it with SIGKILL `delayMs` after it is ready; resolves to its acknowledged saves. */
function writeAndKill(script: string, path: string, run: number, delayMs: number): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path, String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<string, string>();
    let buffer = '';
    let errors = '';
    child.stderr.on('data', (d) => (errors += d));
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), delayMs);
        const [tag, user, access] = line.split(' ');
        if (tag === 'ack' && user && access) acked.set(user, access);
        nl = buffer.indexOf('\n');
      }
    });
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`writer ended without being killed: ${errors}`)),
    );
  });
}

it('a writer killed with SIGKILL at random moments never leaves a partial token or loses an acknowledged save', async () => {
  const script = bundleScript(join(import.meta.dirname, 'helpers', 'sqlite-crash-writer.ts'));
  const path = join(dir, 'crash.db');
  await new SQLiteStore({ path }).close();
  const latest = new Map<string, string>(); // user -> last acknowledged access token (across runs)
  let kills = 0;
  let checks = 0;
  for (let run = 0; run < 100; run++) {
    const acked = await writeAndKill(script, path, run, 2 + Math.floor(Math.random() * 40));
    kills++;
    for (const [user, access] of acked) latest.set(user, access);
    const store = new SQLiteStore({ path });
    const tokens = await store.getTokens();
    // one row per user, every row whole, each user at least as new as its last acknowledged save
    expect(new Set(tokens.map((t) => t.userName)).size).toBe(tokens.length);
    for (const token of tokens) {
      expect(token.refreshToken).toBe(`1000.refresh.${token.userName}.aaaabbbbccccdddd`);
      expect(token.accessToken).toMatch(/^1000\.access\.r\d+\.i\d+$/);
      checks++;
    }
    for (const [user, access] of latest) {
      const stored = tokens.find((t) => t.userName === user);
      expect(stored, `acknowledged save of ${user} lost`).toBeDefined();
      const [, storedRun, storedI] = /r(\d+)\.i(\d+)/.exec(stored!.accessToken!)!.map(Number);
      const [, ackRun, ackI] = /r(\d+)\.i(\d+)/.exec(access)!.map(Number);
      expect(
        storedRun! > ackRun! || (storedRun === ackRun && storedI! >= ackI!),
        `${user}: ${stored!.accessToken} older than acknowledged ${access}`,
      ).toBe(true);
      checks++;
    }
    await store.close();
  }
  console.log(`SQLite crash test: ${kills} SIGKILLs, ${checks} row checks, ${latest.size} users with acknowledged saves`);
  expect(kills).toBe(100);
}, 120_000);
