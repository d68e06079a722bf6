/**
 * Every store, made fresh and cleaned up the same way, for suites that must run against all of
 * them (hostile input, leak checks). Remote stores are included when their service is reachable
 * (test/services.ts decides whether a missing one skips or fails).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenStore } from '../../src/store.js';
import { ListStore } from '../../src/stores/list.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';

export interface StoreFactory {
  name: string;
  create(): Promise<TokenStore>;
  /** Closes the store and removes whatever create() made. */
  destroy(store: TokenStore): Promise<void>;
}

export function localStoreFactories(): StoreFactory[] {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-factories-'));
  let n = 0;
  const close = async (store: TokenStore) => store.close();
  return [
    { name: 'MemoryStore', create: async () => new MemoryStore(), destroy: close },
    { name: 'ListStore', create: async () => new ListStore(), destroy: close },
    {
      name: 'SQLiteStore',
      create: async () => new SQLiteStore({ path: join(dir, `s${++n}.db`) }),
      destroy: async (store) => {
        await store.close();
        rmSync((store as SQLiteStore).path, { force: true });
      },
    },
  ];
}
