/**
 * The PostgreSQL side of the SQL driver shim, over pg's Pool: named prepared statements (every
 * value bound), READ COMMITTED transactions with a transaction-scoped advisory lock for the
 * insert path, and session advisory locks on a dedicated client for withLock.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ColumnName } from '../../token.js';
import { loadDriver } from '../driver.js';
import { postgresDialect, type TokenSql } from './dialect.js';
import { preparePostgresTable } from './postgres-schema.js';
import {
  CommitUncertainError,
  type DriverErrorKind,
  type LockSession,
  type SqlDriver,
  type SqlRow,
  type SqlTransaction,
  type TableInfo,
} from './sql-driver.js';

export interface PostgresConnectionOptions {
  connectionString?: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  table: string;
  schema?: string;
  max: number;
  connectTimeoutMs: number;
}

/** How long a statement waits for a row or advisory lock before failing (ms). */
const LOCK_WAIT_MS = 15_000;

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** Missing database or schema, bad credentials, too many connections, server starting up. */
const CONNECT_STATES = new Set(['3D000', '3F000', '28P01', '28000', '53300', '57P03']);
const CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', '57P01', '57P02', '08000', '08003', '08006', '08001', '08004', '08007']);
const CONNECTION_MESSAGES = /Connection terminated|not queryable|Client was closed|connection error/i;

interface PgError {
  code?: string;
  message?: string;
}

type PgModule = typeof pg;

export class PostgresDriver implements SqlDriver {
  readonly dialect = postgresDialect;
  readonly storeName = 'PostgresStore';
  readonly where: string;
  readonly slowMaxId = false;
  readonly insertLockName: string;
  private pool: pg.Pool | null = null;
  private readonly scope: string;
  private readonly place: { host: string; port: number; database: string };

  constructor(private readonly options: PostgresConnectionOptions) {
    this.place = placeOf(options);
    const qualified = options.schema === undefined ? options.table : `${options.schema}.${options.table}`;
    this.where = `PostgreSQL ${this.place.host}:${this.place.port}/${this.place.database}, table ${qualified}`;
    this.scope = qualified;
    this.insertLockName = `ztoken:insert:${qualified}`;
  }

  private config(): pg.ClientConfig {
    const o = this.options;
    const common = {
      connectionTimeoutMillis: o.connectTimeoutMs,
      keepAlive: true,
      application_name: 'zoho-token-store',
      lock_timeout: LOCK_WAIT_MS,
    };
    if (o.connectionString !== undefined) return { connectionString: o.connectionString, ...common };
    return {
      host: o.host,
      port: o.port,
      database: o.database,
      user: o.user,
      ...(o.password === undefined ? {} : { password: o.password }),
      ...common,
    };
  }

  private getPool(): pg.Pool {
    if (!this.pool) {
      const { Pool } = loadDriver<PgModule>('pg', 'PostgresStore');
      const pool = new Pool({ ...this.config(), max: this.options.max, idleTimeoutMillis: 60_000 });
      // An idle client whose server went away must not crash the process; the pool drops it.
      pool.on('error', () => undefined);
      this.pool = pool;
    }
    return this.pool;
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<SqlRow[]> {
    return (await this.getPool().query(statement(sql, params))).rows as SqlRow[];
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const client = await this.getPool().connect();
    let broken = false;
    let commitSent = false;
    try {
      await client.query('BEGIN');
      const tx: SqlTransaction = {
        query: async (sql, params = []) => (await client.query(statement(sql, params))).rows as SqlRow[],
        serialize: async (name) => {
          await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name]);
        },
      };
      const result = await fn(tx);
      commitSent = true;
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (this.classify(error) === 'connection') broken = true;
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      throw commitSent && broken ? new CommitUncertainError(error) : error;
    } finally {
      client.release(broken ? true : undefined);
    }
  }

  prepareTable(sql: TokenSql, idNumberExpression: string): Promise<TableInfo> {
    return preparePostgresTable(this, sql, this.options.table, idNumberExpression);
  }

  async openLockSession(): Promise<LockSession> {
    const { Client } = loadDriver<PgModule>('pg', 'PostgresStore');
    const client = new Client(this.config());
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      client.end().catch(() => undefined);
      throw error;
    }
    return {
      tryLock: async (name) => {
        const result = await client.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got', [name]);
        return result.rows[0]?.got === true;
      },
      release: async (name) => {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [name]);
        await client.end();
      },
      destroy: () => {
        client.end().catch(() => undefined);
      },
    };
  }

  lockName(key: string): string {
    return `ztoken:lock:${this.scope}:${key}`;
  }

  classify(error: unknown): DriverErrorKind {
    const e = (error ?? {}) as PgError;
    const code = e.code ?? '';
    if (code === '23505') return 'duplicate';
    if (code === '40P01' || code === '40001') return 'deadlock';
    if (code === '55P03') return 'lock-timeout';
    if (code === '22001' || code === '22021' || code === '22P05') return 'bad-value';
    if (code === '42P01') return 'no-table';
    if (CONNECT_STATES.has(code) || CONNECT_CODES.has(code) || /timeout expired|connection timeout/i.test(e.message ?? ''))
      return 'connect';
    if (CONNECTION_CODES.has(code) || CONNECTION_MESSAGES.test(e.message ?? '')) return 'connection';
    return 'other';
  }

  describe(error: unknown): { message: string; code?: string } {
    const e = (error ?? {}) as PgError;
    const { host, port, database } = this.place;
    let message = e.message ?? String(error);
    if (e.code === '3D000')
      message = `database "${database}" does not exist on ${host}:${port}; create it first (CREATE DATABASE ${database}) or choose another database`;
    else if (e.code === '3F000')
      message = `${message} in database ${database} on ${host}:${port}; create the schema first or choose another`;
    else if (this.classify(error) === 'connect' && !/^[0-9A-Z]{5}$/.test(e.code ?? ''))
      message = `cannot connect to ${host}:${port} (${e.code ?? 'error'}): ${message}`;
    // "invalid input syntax for type ...: "<value>"" echoes a value: cut it.
    message = message.replace(/(invalid input syntax for type [\w ]+): "[\s\S]*"/, '$1: "…"');
    const password = this.options.password ?? '';
    if (password.length >= 4) message = message.split(password).join('…');
    return { message, ...(e.code === undefined ? {} : { code: e.code }) };
  }

  columnOf(): ColumnName | undefined {
    // PostgreSQL's "value too long for type character varying(255)" does not name the column;
    // the store's length check names it before the value reaches the server.
    return undefined;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.end();
  }
}

const statementNames = new Map<string, string | null>();

/** A named prepared statement for data statements (parsed once per connection), plain otherwise. */
function statement(text: string, values: readonly unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = /^(SELECT|INSERT|UPDATE|DELETE)\b/.test(text) ? `zt_${createHash('sha1').update(text).digest('hex').slice(0, 24)}` : null;
    if (statementNames.size < 10_000) statementNames.set(text, name);
  }
  return name === null ? { text, values: values as unknown[] } : { name, text, values: values as unknown[] };
}

/** host, port and database for messages, from the options or the connection string (never the password). */
function placeOf(o: PostgresConnectionOptions): { host: string; port: number; database: string } {
  if (o.connectionString === undefined) return { host: o.host, port: o.port, database: o.database };
  try {
    const url = new URL(o.connectionString);
    return {
      host: url.hostname || url.searchParams.get('host') || 'localhost',
      port: Number(url.port || 5432),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || url.username || 'postgres',
    };
  } catch {
    return { host: '(connection string)', port: 5432, database: '(connection string)' };
  }
}
