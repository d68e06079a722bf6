/**
 * Test-side access to the real MySQL and PostgreSQL services: where they are (from
 * test/services.ts), an admin connection, and the server-side views the tests need (a table's
 * rows, the sessions of a database, killing them).
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MYSQL_URL, POSTGRES_URL } from '../../services.js';

export interface SqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

function parse(url: string, defaultPort: number, defaultUser: string): SqlTarget {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || defaultPort),
    user: decodeURIComponent(u.username || defaultUser),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'test',
  };
}

export const mysqlTarget = (): SqlTarget => parse(MYSQL_URL, 3306, 'root');
export const postgresTarget = (): SqlTarget => parse(POSTGRES_URL, 5432, 'postgres');

export async function mysqlAdmin(database = mysqlTarget().database): Promise<mysql.Connection> {
  const t = mysqlTarget();
  return mysql.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, database });
}

export async function postgresAdmin(database = postgresTarget().database): Promise<pg.Client> {
  const t = postgresTarget();
  const client = new pg.Client({ host: t.host, port: t.port, user: t.user, password: t.password, database });
  await client.connect();
  client.on('error', () => undefined);
  return client;
}

/** Every row of a MySQL table, as the server holds it, ordered by id. */
export async function mysqlRows(table: string, database?: string): Promise<Record<string, unknown>[]> {
  const admin = await mysqlAdmin(database);
  try {
    const [rows] = await admin.query(`SELECT * FROM \`${table}\` ORDER BY LENGTH(id), id`);
    return rows as Record<string, unknown>[];
  } finally {
    await admin.end();
  }
}

export async function postgresRows(table: string, database?: string): Promise<Record<string, unknown>[]> {
  const admin = await postgresAdmin(database);
  try {
    return (await admin.query(`SELECT * FROM "${table}" ORDER BY length(id), id`)).rows;
  } finally {
    await admin.end();
  }
}

export async function dropMySqlTable(table: string, database?: string): Promise<void> {
  const admin = await mysqlAdmin(database);
  try {
    await admin.query(`DROP TABLE IF EXISTS \`${table}\``);
  } finally {
    await admin.end();
  }
}

export async function dropPostgresTable(table: string, database?: string): Promise<void> {
  const admin = await postgresAdmin(database);
  try {
    await admin.query(`DROP TABLE IF EXISTS "${table}"`);
  } finally {
    await admin.end();
  }
}

/** Waits until `check` returns a truthy value (polling), or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
