/**
 * Runs once around the whole test run (and around `npm run bench`). The SQL stores create a shared side table for their
 * locks (`ztoken_locks`) in the database they use; tests must leave the shared test databases as
 * they found them, so the table is dropped at the end if this run created it.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MYSQL_URL, POSTGRES_URL } from './services.js';

const LOCK_TABLE = 'ztoken_locks';

async function withMysql<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T | undefined> {
  const connection = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 2_000 }).catch(() => undefined);
  if (!connection) return undefined;
  try {
    return await fn(connection);
  } finally {
    await connection.end();
  }
}

async function withPostgres<T>(fn: (c: pg.Client) => Promise<T>): Promise<T | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  if (
    !(await client.connect().then(
      () => true,
      () => false,
    ))
  )
    return undefined;
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function setup(): Promise<() => Promise<void>> {
  const mysqlHad = await withMysql(async (c) => {
    const [rows] = await c.query('SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [
      LOCK_TABLE,
    ]);
    return (rows as unknown[]).length > 0;
  });
  const postgresHad = await withPostgres(async (c) => (await c.query('SELECT to_regclass($1) AS t', [LOCK_TABLE])).rows[0]?.t !== null);
  return async () => {
    if (mysqlHad === false) await withMysql((c) => c.query(`DROP TABLE IF EXISTS \`${LOCK_TABLE}\``));
    if (postgresHad === false) await withPostgres((c) => c.query(`DROP TABLE IF EXISTS "${LOCK_TABLE}"`));
  };
}
