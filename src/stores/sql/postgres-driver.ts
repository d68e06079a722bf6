/**
 * The PostgreSQL side of the SQL driver shim, over pg's Pool: named prepared statements (every
 * value bound), READ COMMITTED transactions with a transaction-scoped advisory lock for the
 * insert path, and session advisory locks on a dedicated client for withLock (postgres-lock.ts);
 * every data statement has a client-side time limit (postgres-query.ts), so a server that hangs
 * mid-query fails the call and its connection is dropped.
 */
import type pg from 'pg';
import type { ColumnName } from '../../token.js';
import { loadDriver } from '../driver.js';
import { postgresDialect } from './dialect.js';
import { LOCK_TABLE } from './lock-expiry.js';
import { PostgresLockSession, preparePostgresLockTable } from './postgres-lock.js';
import { runPostgres } from './postgres-query.js';
import { preparePostgresTable } from './postgres-schema.js';
import {
  CommitUncertainError,
  type DriverErrorKind,
  type LockSession,
  QueryTimeoutError,
  type SqlDriver,
  type SqlRow,
  type SqlTransaction,
  type StatementLimits,
  statementTimeout,
  type TableInfo,
  type TableRequest,
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
  /** How long the server may take to answer a statement (plus lock waits) before the call fails. */
  queryTimeoutMs: number;
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
  readonly insertLockName: string;
  private pool: pg.Pool | null = null;
  private readonly scope: string;
  private readonly place: { host: string; port: number; database: string };
  private readonly limits: StatementLimits;
  /** The lock side table (lock-expiry.ts), next to the token table. */
  private readonly lockTableName: string;
  /** Whether the lock side table is usable, found once per store. */
  private lockTable: Promise<boolean> | null = null;

  constructor(private readonly options: PostgresConnectionOptions) {
    this.place = placeOf(options);
    const qualified = options.schema === undefined ? options.table : `${options.schema}.${options.table}`;
    this.where = `PostgreSQL ${this.place.host}:${this.place.port}/${this.place.database}, table ${qualified}`;
    this.scope = qualified;
    this.insertLockName = `ztoken:insert:${qualified}`;
    this.limits = { queryTimeoutMs: options.queryTimeoutMs, lockWaitMs: LOCK_WAIT_MS };
    this.lockTableName = `${options.schema === undefined ? '' : `"${options.schema}".`}"${LOCK_TABLE}"`;
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
    // On any error the pool destroys the client; after a timeout that drops the hung socket.
    return runPostgres(this.getPool(), sql, params, statementTimeout(sql, this.limits));
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const client = await this.getPool().connect();
    let broken = false;
    let commitSent = false;
    try {
      const run = (sql: string, params: readonly unknown[] = [], waitsForLock = false) =>
        runPostgres(client, sql, params, statementTimeout(sql, this.limits, waitsForLock));
      await run('BEGIN');
      const tx: SqlTransaction = {
        query: (sql, params = []) => run(sql, params),
        serialize: async (name) => {
          await run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name], true);
        },
      };
      const result = await fn(tx);
      commitSent = true;
      await run('COMMIT');
      return result;
    } catch (error) {
      const kind = this.classify(error);
      if (kind === 'connection' || kind === 'timeout') broken = true;
      if (!broken) await runPostgres(client, 'ROLLBACK', [], this.limits.queryTimeoutMs).catch(() => (broken = true));
      throw commitSent && broken ? new CommitUncertainError(error) : error;
    } finally {
      client.release(broken ? true : undefined);
    }
  }

  prepareTable(request: TableRequest): Promise<TableInfo> {
    return preparePostgresTable(this, request, this.options.table);
  }

  async openLockSession(): Promise<LockSession> {
    const { Client } = loadDriver<PgModule>('pg', 'PostgresStore');
    const client = new Client(this.config());
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (!this.lockTable) {
        const ready = preparePostgresLockTable(
          (sql, params = []) => runPostgres(client, sql, params, statementTimeout(sql, this.limits)),
          this.lockTableName,
        );
        this.lockTable = ready;
        // A failure (server gone) is tried again by the next withLock.
        ready.catch(() => {
          if (this.lockTable === ready) this.lockTable = null;
        });
      }
      return new PostgresLockSession(client, this.lockTableName, await this.lockTable, this.limits);
    } catch (error) {
      client.connection.stream.destroy();
      client.end().catch(() => undefined);
      throw error;
    }
  }

  lockName(key: string): string {
    return `ztoken:lock:${this.scope}:${key}`;
  }

  classify(error: unknown): DriverErrorKind {
    if (error instanceof QueryTimeoutError) return 'timeout';
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
    if (error instanceof QueryTimeoutError)
      message = `the server at ${host}:${port} did not answer within ${error.timeoutMs} ms (queryTimeoutMs ${this.options.queryTimeoutMs}); the connection was dropped`;
    else if (e.code === '3D000')
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
