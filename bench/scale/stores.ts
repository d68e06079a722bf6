/**
 * The kinds of store the scale suite measures, each loaded in bulk in its own format (setup
 * speed, not what is measured): MemoryStore by saveToken, SQLite in one transaction, MySQL and
 * PostgreSQL in multi-row INSERTs in one transaction, Redis through importTokens pipelines,
 * FileStore's token file in one write.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { tokenToRow } from '../../src/row.js';
import type { TokenStore } from '../../src/store.js';
import { FileStore } from '../../src/stores/file.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { RedisStore } from '../../src/stores/redis.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import type { StoredToken } from '../../src/token.js';
import { numbered, seedSqliteFile, seedTokenFile } from '../lib-seed.js';
import { bulkLoad, type SqlBenchEngine } from '../lib-stores.js';
import { engine as mysqlEngine } from '../suites/mysql.js';
import { engine as postgresEngine } from '../suites/postgres.js';

const REDIS_URL = process.env.ZTOKEN_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Token number i (1..count) as the store holds it: plain or encrypted. Tokens are made as they are loaded, never held all at once. */
export type TokenMaker = (i: number) => StoredToken;

/** A kind of store: loads `count` tokens into a new store and removes it. */
export interface ScaleStore {
  name: string;
  /** Its saves rewrite everything (FileStore): fewer, untimed-warm-up calls; not held to "flat". */
  slowSaves?: boolean;
  load(tag: string, count: number, make: TokenMaker): Promise<TokenStore>;
  drop(tag: string): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** DBStore or PostgresStore: the SQL suite's engine loads its table in multi-row INSERTs in one transaction. */
function sqlStore(name: string, engine: SqlBenchEngine): ScaleStore {
  const table = (tag: string) => `ztscale_${process.pid}_${tag}`;
  return {
    name,
    load: async (tag, count, make) => {
      const store = engine.open(table(tag));
      await store.getTokens(); // creates the table and its indexes
      const raw = engine.connect();
      try {
        await bulkLoad(engine, raw, table(tag), 0, count, (i) => tokenToRow(make(i)));
        await raw.query(engine.analyze(engine.quote(table(tag))));
      } finally {
        await raw.end();
      }
      return store;
    },
    drop: async (tag) => {
      const raw = engine.connect();
      await raw.query(`DROP TABLE IF EXISTS ${engine.quote(table(tag))}`).finally(() => raw.end());
    },
  };
}

/** Every kind, in the order the suite measures them; `dir` holds the SQLite and token files. */
export function scaleStores(dir: string): ScaleStore[] {
  const redisPrefix = (tag: string) => `ztscale_${process.pid}_${tag}:`;
  return [
    {
      name: 'MemoryStore',
      // One by one, as its tokens arrive in an application: each token's values are made just
      // before it is saved, so they lie next to the store's record of it in memory.
      load: async (_tag, count, make) => {
        const store = new MemoryStore();
        for (let i = 1; i <= count; i++) await store.saveToken(make(i));
        return store;
      },
      drop: async () => undefined,
    },
    {
      name: 'SQLiteStore',
      load: async (tag, count, make) => {
        seedSqliteFile(join(dir, `${tag}.db`), numbered(count, make));
        return new SQLiteStore({ path: join(dir, `${tag}.db`) });
      },
      drop: async (tag) => rmSync(join(dir, `${tag}.db`), { force: true }),
    },
    sqlStore('DBStore (MySQL)', mysqlEngine),
    sqlStore('PostgresStore', postgresEngine),
    {
      name: 'RedisStore',
      load: async (tag, count, make) => {
        const store = new RedisStore({ url: REDIS_URL, prefix: redisPrefix(tag) });
        await store.deleteTokens();
        for (let start = 1; start <= count; start += 10_000)
          await store.importTokens([...numbered(Math.min(10_000, count - start + 1), make, start)]);
        return store;
      },
      drop: async (tag) => {
        const store = new RedisStore({ url: REDIS_URL, prefix: redisPrefix(tag) });
        await store.deleteTokens().finally(() => store.close());
      },
    },
    {
      name: 'FileStore',
      slowSaves: true,
      load: async (tag, count, make) => {
        const path = join(dir, `${tag}.txt`);
        seedTokenFile(path, numbered(count, make));
        const store = new FileStore({ path });
        await store.findTokenById('1');
        await sleep(50); // past the racy window of a file written just now (file-stamp.ts)
        await store.findTokenById('1');
        return store;
      },
      drop: async (tag) => rmSync(join(dir, `${tag}.txt`), { force: true }),
    },
  ];
}

/** The kinds' names, for the suite (which measures each in a child process of its own). */
export const SCALE_STORE_NAMES = scaleStores('').map((kind) => kind.name);
