/**
 * A save that the disk refuses (emulated by lowering the writer's file-size limit with prlimit,
 * which fails writes with EFBIG as a full disk fails them with ENOSPC) is a clear error and
 * leaves every stored token as it was.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/stores/file.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { sampleToken } from '../../src/testing/index.js';
import type { TokenStore } from '../../src/store.js';
import { bundleScript } from '../helpers/bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-disk-full-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = bundleScript(join(import.meta.dirname, 'helpers', 'disk-full-writer.ts'));

/** Starts the writer, lowers its file-size limit to `bytes` once the store is open, lets it save. */
function saveUnderLimit(
  kind: string,
  path: string,
  bytes: number,
): Promise<{ ok: boolean; name?: string; reason?: string; message?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, kind, path], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      if (out === 'ready\n') {
        execFileSync('prlimit', ['--pid', String(child.pid), `--fsize=${bytes}:${bytes}`]);
        child.stdin.end('go\n');
      }
    });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`writer exited ${code}`));
      resolve(JSON.parse(out.slice('ready\n'.length)));
    });
  });
}

async function fill(store: TokenStore, count: number) {
  for (let i = 0; i < count; i++) await store.saveToken(sampleToken(`user${i}`));
  const tokens = await store.getTokens();
  await store.close();
  return tokens;
}

describe('a full disk', () => {
  it('FileStore: the save fails naming the file, the old file stays byte for byte, no temp file is left', async () => {
    const path = join(dir, 'sdk_tokens.txt');
    const before = await fill(new FileStore({ path }), 150);
    const bytes = readFileSync(path);
    expect(bytes.length).toBeGreaterThan(8 * 1024);
    const result = await saveUnderLimit('file', path, 4096); // less than the file: the temp copy cannot be written
    expect(result.ok).toBe(false);
    expect(result.reason).toBe('WRITE_FAILED');
    expect(result.message).toContain(path);
    expect(result.message).not.toContain('z'.repeat(100));
    expect(readFileSync(path)).toEqual(bytes);
    expect(readdirSync(dir).filter((f) => f !== 'sdk_tokens.txt' && !f.endsWith('.lock'))).toEqual([]);
    const store = new FileStore({ path });
    expect(await store.getTokens()).toEqual(before);
    await store.close();
  });

  it('SQLiteStore: the save fails naming the database, and the stored rows are unchanged', async () => {
    const path = join(dir, 'zohooauth.db');
    const before = await fill(new SQLiteStore({ path }), 150);
    const result = await saveUnderLimit('sqlite', path, 4096);
    expect(result.ok).toBe(false);
    expect(result.name).toBe('TokenStoreError');
    expect(result.reason).toBe('WRITE_FAILED');
    expect(result.message).toContain(path);
    const store = new SQLiteStore({ path });
    expect(await store.getTokens()).toEqual(before);
    await store.close();
  });
});
