/**
 * Issue 2 benchmark: findToken (by refresh token, random) and saveToken (update of a random
 * user) for MemoryStore, ListStore and SQLiteStore at 1,000 / 10,000 / 100,000 tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenStore } from '../../src/store.js';
import { ListStore } from '../../src/stores/list.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { CLIENT, sampleToken } from '../../src/testing/index.js';
import type { BenchContext } from '../lib.js';
import { seededRandom } from '../lib.js';
import { numbered, seedSqliteFile } from '../lib-seed.js';

export const benchToken = (i: number) =>
  sampleToken(`user${i}@zylker.com`, {
    refreshToken: `1000.${i.toString(16).padStart(32, '0')}.refresh`,
    accessToken: `1000.${i.toString(16).padStart(32, '0')}.access`,
  });

async function fill(store: TokenStore, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) await store.saveToken({ ...benchToken(i), id: String(i) });
}

async function measureStore(ctx: BenchContext, subject: string, store: TokenStore, count: number): Promise<void> {
  const random = seededRandom(count);
  const pick = () => 1 + Math.floor(random() * count);
  // Lookups are built before timing so the figures are the store's, not the harness's.
  const queries = Array.from({ length: 4096 }, () => {
    const i = pick();
    // A plain literal, as callers write it (a spread-built object keeps its added fields out of line).
    return {
      id: String(i),
      partial: { clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, refreshToken: benchToken(i).refreshToken },
    };
  });
  let q = 0;
  const find = await ctx.measure(async () => {
    const query = queries[q++ & 4095]!;
    const found = await store.findToken(query.partial);
    if (found?.id !== query.id) throw new Error(`lookup of ${query.id} found ${found?.id}`);
  });
  ctx.record({ suite: 'core-stores', subject, operation: 'findToken', tokens: count, ...find });
  let n = 0;
  const save = await ctx.measure(async () => {
    const i = pick();
    await store.saveToken({ ...benchToken(i), accessToken: `1000.updated.${n++}`, expiryTime: 1_800_000_000_000 + n });
  });
  ctx.record({ suite: 'core-stores', subject, operation: 'saveToken (update)', tokens: count, ...save });
}

export async function run(ctx: BenchContext): Promise<void> {
  const empty = await ctx.measure(async () => undefined);
  ctx.record({ suite: 'core-stores', subject: 'harness', operation: 'empty async call', ...empty, note: 'measurement floor' });
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-bench-'));
  try {
    for (const count of ctx.sizes) {
      const memory = new MemoryStore();
      await fill(memory, count);
      await measureStore(ctx, 'MemoryStore', memory, count);
      await memory.close();

      if (count <= 10_000) {
        const list = new ListStore();
        await fill(list, count);
        await measureStore(ctx, 'ListStore (linear scan, as the seed)', list, count);
        await list.close();
      }

      const path = join(dir, `bench-${count}.db`);
      seedSqliteFile(
        path,
        numbered(count, (i) => ({ ...benchToken(i), id: String(i) })),
      );
      const sqlite = new SQLiteStore({ path });
      await measureStore(ctx, 'SQLiteStore (file, WAL)', sqlite, count);
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
