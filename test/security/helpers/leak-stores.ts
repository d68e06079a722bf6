/**
 * Every store of the project for the leak test, made fresh and removed afterwards: the local
 * ones always, MySQL/MariaDB, PostgreSQL and Redis when their service is reachable
 * (test/services.ts decides whether a missing one skips or fails), and EncryptedStore over two
 * of them.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { EncryptedStore } from '../../../src/crypto/encrypted-store.js';
import type { TokenStore } from '../../../src/store.js';
import { FileStore } from '../../../src/stores/file.js';
import { ListStore } from '../../../src/stores/list.js';
import { MemoryStore } from '../../../src/stores/memory.js';
import { DBStore } from '../../../src/stores/mysql.js';
import { PostgresStore } from '../../../src/stores/postgres.js';
import { RedisStore } from '../../../src/stores/redis.js';
import { SQLiteStore } from '../../../src/stores/sqlite.js';
import { MYSQL_URL, POSTGRES_URL, REDIS_URL, serviceAvailable, uniqueName } from '../../services.js';
import { adminClient, deletePrefix } from '../../stores/helpers/redis-keys.js';
import { dropMySqlTable, dropPostgresTable, mysqlTarget, postgresTarget } from '../../stores/helpers/sql-admin.js';

export interface LeakStoreFactory {
  name: string;
  create(): Promise<TokenStore>;
  /** Closes the store and removes what create() made. */
  destroy(store: TokenStore): Promise<void>;
}

export interface ServiceAvailability {
  mysql: boolean;
  postgres: boolean;
  redis: boolean;
}

export async function servicesAvailable(): Promise<ServiceAvailability> {
  const [mysql, postgres, redis] = await Promise.all([
    serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL'),
    serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL'),
    serviceAvailable('Redis', REDIS_URL, 'ZTOKEN_REDIS_URL'),
  ]);
  return { mysql, postgres, redis };
}

/** The key of the encrypted factories (tests watch for it in every error). */
export const LEAK_TEST_KEY = randomBytes(32);

/** The factories; local files go under `dir`, which the caller removes. */
export function leakStoreFactories(services: ServiceAvailability, dir: string): LeakStoreFactory[] {
  let n = 0;
  const close = async (store: TokenStore) => store.close();
  const factories: LeakStoreFactory[] = [
    { name: 'MemoryStore', create: async () => new MemoryStore(), destroy: close },
    { name: 'ListStore', create: async () => new ListStore(), destroy: close },
    { name: 'SQLiteStore', create: async () => new SQLiteStore({ path: join(dir, `s${++n}.db`) }), destroy: close },
    { name: 'FileStore', create: async () => new FileStore({ path: join(dir, `f${++n}.txt`) }), destroy: close },
    {
      name: 'EncryptedStore(MemoryStore)',
      create: async () => new EncryptedStore(new MemoryStore(), { keys: [{ id: 'leak', key: LEAK_TEST_KEY }] }),
      destroy: close,
    },
    {
      name: 'EncryptedStore(SQLiteStore)',
      create: async () =>
        new EncryptedStore(new SQLiteStore({ path: join(dir, `e${++n}.db`) }), { keys: [{ id: 'leak', key: LEAK_TEST_KEY }] }),
      destroy: close,
    },
  ];
  if (services.mysql) {
    factories.push({
      name: 'DBStore',
      create: async () => new DBStore({ ...mysqlTarget(), table: uniqueName('zt_leak') }),
      destroy: async (store) => {
        await store.close();
        await dropMySqlTable((store as DBStore).table);
      },
    });
  }
  if (services.postgres) {
    factories.push({
      name: 'PostgresStore',
      create: async () => new PostgresStore({ ...postgresTarget(), table: uniqueName('zt_leak') }),
      destroy: async (store) => {
        await store.close();
        await dropPostgresTable((store as PostgresStore).table);
      },
    });
  }
  if (services.redis) {
    factories.push({
      name: 'RedisStore',
      create: async () => new RedisStore({ url: REDIS_URL, prefix: `${uniqueName('zt_leak')}:` }),
      destroy: async (store) => {
        await store.close();
        const admin = adminClient();
        try {
          await deletePrefix(admin, (store as RedisStore).prefix);
        } finally {
          admin.disconnect();
        }
      },
    });
  }
  return factories;
}
