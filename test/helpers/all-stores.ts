/**
 * Every store this project ships, as factories for suites that must run against all of them.
 * Remote stores are included when their service is reachable (test/services.ts decides whether a
 * missing one skips or fails); EncryptedStore wraps a SQLite file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import { FileStore } from '../../src/stores/file.js';
import { DBStore } from '../../src/stores/mysql.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { RedisStore } from '../../src/stores/redis.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { MYSQL_URL, POSTGRES_URL, REDIS_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropMySqlTable, dropPostgresTable, mysqlTarget, postgresTarget } from '../stores/helpers/sql-admin.js';
import { adminClient, deletePrefix } from '../stores/helpers/redis-keys.js';
import { localStoreFactories, type StoreFactory } from './store-factories.js';

export async function allStoreFactories(): Promise<StoreFactory[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-all-stores-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const factories = [...localStoreFactories()];
  factories.push({
    name: 'FileStore',
    create: async () => new FileStore({ path: join(dir, `f${++n}.txt`) }),
    destroy: async (store) => store.close(),
  });
  factories.push({
    name: 'EncryptedStore(SQLiteStore)',
    create: async () =>
      new EncryptedStore(new SQLiteStore({ path: join(dir, `e${++n}.db`) }), { keys: [{ id: 'k1', key: randomBytes(32) }] }),
    destroy: async (store) => store.close(),
  });
  if (await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL')) {
    factories.push({
      name: 'DBStore (MySQL)',
      create: async () => new DBStore({ ...mysqlTarget(), table: uniqueName('zt_hostile') }),
      destroy: async (store) => {
        await store.close();
        await dropMySqlTable((store as DBStore).table);
      },
    });
  }
  if (await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL')) {
    factories.push({
      name: 'PostgresStore',
      create: async () => new PostgresStore({ ...postgresTarget(), table: uniqueName('zt_hostile') }),
      destroy: async (store) => {
        await store.close();
        await dropPostgresTable((store as PostgresStore).table);
      },
    });
  }
  if (await serviceAvailable('Redis', REDIS_URL, 'ZTOKEN_REDIS_URL')) {
    factories.push({
      name: 'RedisStore',
      create: async () => new RedisStore({ url: REDIS_URL, prefix: `${uniqueName('zt')}:` }),
      destroy: async (store) => {
        const admin = adminClient();
        await deletePrefix(admin, (store as RedisStore).prefix);
        admin.disconnect();
        await store.close();
      },
    });
  }
  return factories;
}
