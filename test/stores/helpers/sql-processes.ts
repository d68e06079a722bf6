/**
 * The cross-process tests shared by the MySQL and PostgreSQL stores: several tsx children save
 * distinct and identical users at once, take a shared lock in turn, or die holding it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { TokenStore } from '../../../src/store.js';
import { mysqlTarget, postgresTarget } from './sql-admin.js';
import { expectNoOverlappingSections } from '../../helpers/lock-spans.js';

const worker = join(import.meta.dirname, 'store-writer.ts');
// `node --import tsx` (not the tsx wrapper) so that SIGKILL reaches the process holding the lock.
const nodeArgs = (...args: string[]) => ['--import', 'tsx', worker, ...args];

export interface ProcessTestTarget {
  engine: 'mysql' | 'postgres';
  database: string;
  /** A fresh table name for each test. */
  table: () => string;
  open: (table: string) => TokenStore & { withLock: NonNullable<TokenStore['withLock']> };
}

/** The writer's store URL: the test's server and database, its table. */
function storeUrlOf(t: ProcessTestTarget, table: string): string {
  const target = t.engine === 'mysql' ? mysqlTarget() : postgresTarget();
  const auth = `${encodeURIComponent(target.user)}${target.password ? `:${encodeURIComponent(target.password)}` : ''}`;
  return `${t.engine}://${auth}@${target.host}:${target.port}/${encodeURIComponent(t.database)}?table=${table}`;
}

function runWriter(t: ProcessTestTarget, table: string, mode: string, workerId: number, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs(storeUrlOf(t, table), mode, String(workerId), String(count)), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer ${workerId} exited ${code}: ${err}`))));
  });
}

export function crossProcessTests(t: ProcessTestTarget): void {
  it('four processes saving distinct and identical users at once lose nothing and duplicate nothing', async () => {
    const table = t.table();
    const setup = t.open(table);
    await setup.getTokens();
    await setup.close();
    await Promise.all([0, 1, 2, 3].map((w) => runWriter(t, table, 'save', w, 20)));
    const store = t.open(table);
    const all = await store.getTokens();
    const own = all.filter((x) => x.userName?.startsWith('w'));
    const shared = all.filter((x) => x.userName?.startsWith('shared'));
    expect(own).toHaveLength(4 * 20);
    expect(new Set(own.map((x) => x.userName)).size).toBe(4 * 20);
    expect(shared).toHaveLength(10);
    expect(new Set(shared.map((x) => x.userName)).size).toBe(10);
    expect(all).toHaveLength(90);
    // Ids are distinct and numbered 1..90 with no gaps.
    expect(all.map((x) => x.id)).toEqual(Array.from({ length: 90 }, (_, i) => String(i + 1)));
    await store.close();
  }, 60_000);

  it('withLock excludes other processes', async () => {
    const table = t.table();
    const outputs = await Promise.all([0, 1, 2].map((w) => runWriter(t, table, 'lock', w, 15)));
    expectNoOverlappingSections(outputs, 45);
  }, 60_000);

  it('a process killed while holding the lock frees it at once (the lock dies with its session)', async () => {
    const table = t.table();
    const child = spawn(process.execPath, nodeArgs(storeUrlOf(t, table), 'hold', '0', '1', '10000'), {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const store = t.open(table);
    // Held: another taker waits.
    let took = false;
    const waiting = store.withLock('fleet', 10_000, async () => {
      took = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(took).toBe(false);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await waiting;
    // Far sooner than the holder's 10 s ttl.
    expect(Date.now() - killedAt).toBeLessThan(3_000);
    await store.close();
  }, 30_000);
}
