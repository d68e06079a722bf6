/**
 * Issue 4 benchmark: TokenManager.getAccessToken for a cached, valid token (target: median at
 * most 2 µs, and no store I/O). The store is a SQLite file behind a wrapper that counts every
 * call, so the row's note proves the cache answered alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenManager } from '../../src/manager/token-manager.js';
import type { TokenStore } from '../../src/store.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { DEFAULT_CLIENT, startEmulator } from '../../src/zoho/emulator/index.js';
import type { BenchContext } from '../lib.js';

/** The store with every method call counted (withLock included). */
function countCalls(inner: TokenStore): { store: TokenStore; calls: () => number } {
  let calls = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls: () => calls };
}

export async function run(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-bench-manager-'));
  const emulator = await startEmulator();
  const sqlite = new SQLiteStore({ path: join(dir, 'manager.db') });
  try {
    const { store, calls } = countCalls(sqlite);
    const manager = new TokenManager({
      store,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      now: () => emulator.clock.now(),
      resolveUserName: false,
    });
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice@zylker.com' });
    const selectors = [
      { label: '{ userName }', selector: { userName: 'alice@zylker.com' } },
      { label: '{ id }', selector: { id: token.id } },
    ];
    for (const { label, selector } of selectors) {
      // One call outside the measurement fills the cache for this selector.
      if ((await manager.getAccessToken(selector)) !== token.accessToken) throw new Error('warm-up served another token');
      const before = calls();
      const refreshesBefore = emulator.counters.refreshes;
      let wrong = 0;
      const result = await ctx.measure(
        async () => {
          if ((await manager.getAccessToken(selector)) !== token.accessToken) wrong++;
        },
        { timeMs: 1_000 },
      );
      const storeCalls = calls() - before;
      const refreshes = emulator.counters.refreshes - refreshesBefore;
      if (wrong > 0) throw new Error(`${wrong} calls served another token`);
      ctx.record({
        suite: 'manager',
        subject: 'TokenManager (SQLite file)',
        operation: `getAccessToken ${label}, cached valid token`,
        ...result,
        note: `store calls during measurement: ${storeCalls}; refreshes: ${refreshes}; target median <= 2 µs`,
      });
    }
  } finally {
    await sqlite.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
