/**
 * The shared stores a fleet can run on, as store URLs: the SQLite file first, then each other
 * store whose module exists in src/stores (they land one by one) and whose service answers.
 * Each entry makes its own table / key prefix (uniqueName) and `cleanup` removes only that.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MYSQL_URL, POSTGRES_URL, REDIS_URL, serviceAvailable, uniqueName } from '../../services.js';

export interface FleetStore {
  name: string;
  url: string;
  /** Why it is skipped, or null when it can run. */
  skip: string | null;
  /** Drops the table / deletes the keys this entry created. */
  cleanup(): Promise<void>;
}

const SRC_STORES = join(import.meta.dirname, '..', '..', '..', 'src', 'stores');
const moduleExists = (file: string) => existsSync(join(SRC_STORES, file));

/** With the URL query appended (`?` or `&` as the base URL needs). */
const withQuery = (base: string, query: string) => `${base}${base.includes('?') ? '&' : '?'}${query}`;

async function dropSqlTable(kind: 'mysql' | 'postgres', url: string, table: string): Promise<void> {
  if (kind === 'mysql') {
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection(url);
    try {
      await connection.query(`DROP TABLE IF EXISTS \`${table}\``);
    } finally {
      await connection.end();
    }
    return;
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS "${table}"`);
  } finally {
    await client.end();
  }
}

async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Every fleet store, SQLite first; `dir` is a temporary folder for the file-based ones. */
export async function fleetStores(dir: string): Promise<FleetStore[]> {
  const stores: FleetStore[] = [
    { name: 'SQLiteStore (file)', url: `sqlite:${join(dir, 'fleet.db')}`, skip: null, cleanup: async () => undefined },
  ];
  stores.push({
    name: 'FileStore',
    url: `file:${join(dir, 'fleet_tokens.txt')}`,
    skip: moduleExists('file.ts') ? null : 'src/stores/file.ts does not exist yet',
    cleanup: async () => undefined,
  });

  const mysqlTable = uniqueName('fleet');
  stores.push({
    name: 'DBStore (MySQL)',
    url: withQuery(MYSQL_URL, `table=${mysqlTable}`),
    skip: !moduleExists('mysql.ts')
      ? 'src/stores/mysql.ts does not exist yet'
      : (await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL'))
        ? null
        : 'MySQL is not reachable',
    cleanup: () => dropSqlTable('mysql', MYSQL_URL, mysqlTable),
  });

  const postgresTable = uniqueName('fleet');
  stores.push({
    name: 'PostgresStore',
    url: withQuery(POSTGRES_URL, `table=${postgresTable}`),
    skip: !moduleExists('postgres.ts')
      ? 'src/stores/postgres.ts does not exist yet'
      : (await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL'))
        ? null
        : 'PostgreSQL is not reachable',
    cleanup: () => dropSqlTable('postgres', POSTGRES_URL, postgresTable),
  });

  const redisPrefix = `${uniqueName('fleet')}:`;
  const redisBase = new URL(REDIS_URL);
  if (redisBase.pathname === '' || redisBase.pathname === '/') redisBase.pathname = '/0';
  stores.push({
    name: 'RedisStore',
    url: withQuery(redisBase.toString(), `prefix=${redisPrefix}`),
    skip: !moduleExists('redis.ts')
      ? 'src/stores/redis.ts does not exist yet'
      : (await serviceAvailable('Redis', REDIS_URL, 'ZTOKEN_REDIS_URL'))
        ? null
        : 'Redis is not reachable',
    cleanup: () => deleteRedisPrefix(redisBase.toString(), redisPrefix),
  });

  // The cluster .ci/run starts (test/helpers/redis-cluster.ts); RedisStore keys it by hash tag.
  const clusterUrl = process.env.ZTOKEN_REDIS_CLUSTER_URL;
  const clusterPrefix = `${uniqueName('fleet')}:`;
  stores.push({
    name: 'RedisStore (Redis Cluster)',
    url: `${clusterUrl ?? ''}?prefix=${clusterPrefix}`,
    skip: clusterUrl ? null : 'ZTOKEN_REDIS_CLUSTER_URL is not set (.ci/run starts a cluster and sets it)',
    cleanup: async () => {
      const { RedisStore } = await import('../../../src/stores/redis.js');
      const store = new RedisStore({ url: clusterUrl, prefix: clusterPrefix });
      await store.deleteTokens();
      await store.close();
    },
  });
  return stores;
}
