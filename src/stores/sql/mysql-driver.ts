/**
 * The MySQL/MariaDB side of the SQL driver shim, over mysql2/promise: one pool per store,
 * server-side prepared statements (every value bound), READ COMMITTED transactions (no gap
 * locks, so the insert lock cannot deadlock against a row lock), STRICT_ALL_TABLES (a value
 * too long is refused, never cut), GET_LOCK for the insert path and for withLock (mysql-lock.ts),
 * and a client-side time limit on every data statement so a server that hangs mid-query fails
 * the call (the connection is dropped) instead of blocking it forever.
 */
import { createHash } from 'node:crypto';
import type * as MySql from 'mysql2/promise';
import { TokenStoreError } from '../../errors.js';
import type { ColumnName } from '../../token.js';
import { loadDriver } from '../driver.js';
import { mysqlDialect } from './dialect.js';
import { MySqlLockSession, prepareMySqlLockTable } from './mysql-lock.js';
import { prepareMySqlTable } from './mysql-schema.js';
import {
  CommitUncertainError,
  type DriverErrorKind,
  type LockSession,
  QueryTimeoutError,
  rowsOf,
  type SqlDriver,
  type SqlRow,
  type SqlTransaction,
  type StatementLimits,
  statementTimeout,
  type TableInfo,
  type TableRequest,
  withStatementTimeout,
} from './sql-driver.js';

export interface MySqlConnectionOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  table: string;
  connectionLimit: number;
  connectTimeoutMs: number;
  /** How long the server may take to answer a statement (plus lock waits) before the call fails. */
  queryTimeoutMs: number;
}

/** Seconds a save waits for another process's insert before giving up. */
const INSERT_LOCK_WAIT_S = 15;
/** Sent as plain text, as before: transaction control. */
const TEXT_STATEMENTS = /^(START TRANSACTION|COMMIT|ROLLBACK)$/;
/** innodb_lock_wait_timeout below, in ms: the longest a statement may wait for a row lock. */
const ROW_LOCK_WAIT_MS = 15_000;

/** Statements every pooled session runs once, before anything else. */
const SESSION_SETUP = [
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', SESSION innodb_lock_wait_timeout = 15",
];

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'HANDSHAKE_NO_SSL_SUPPORT',
]);
/** Unknown database, access denied (several forms), too many connections, auth plugin. */
const CONNECT_ERRNOS = new Set([1049, 1044, 1045, 1698, 1040, 1251, 1203]);
const CONNECTION_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CONNECTION_KILLED']);
/** Connection killed, server shutdown, server gone, lost during query, read/write errors. */
const CONNECTION_ERRNOS = new Set([1927, 1053, 2006, 2013, 1152, 1153, 1158, 1159, 1160, 1161]);

interface MySqlError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  message?: string;
}

type CoreConnection = { query(sql: string, cb: (error: unknown) => void): void; destroy(): void; on(event: 'error', fn: () => void): void };
type Session = Pick<MySql.Connection, 'execute' | 'query' | 'destroy'>;

export class MySqlDriver implements SqlDriver {
  readonly dialect = mysqlDialect;
  readonly storeName = 'DBStore';
  readonly where: string;
  readonly insertLockName: string;
  private pool: MySql.Pool | null = null;
  private readonly scope: string;
  private readonly limits: StatementLimits;
  /** Whether the lock side table is usable (lock-expiry.ts), found once per store. */
  private lockTable: Promise<boolean> | null = null;

  constructor(private readonly options: MySqlConnectionOptions) {
    this.where = `MySQL ${options.host}:${options.port}/${options.database}, table ${options.table}`;
    this.scope = `${options.database}.${options.table}`;
    this.insertLockName = `ztoken:ins:${hash(this.scope)}`;
    this.limits = { queryTimeoutMs: options.queryTimeoutMs, lockWaitMs: Math.max(ROW_LOCK_WAIT_MS, INSERT_LOCK_WAIT_S * 1000) };
  }

  /**
   * Runs one statement on `session` within its time limit; a session that does not answer is
   * dropped. Statements without parameters that cannot be prepared (transaction control) go as text.
   */
  private async run(session: Session, sql: string, params: readonly unknown[], waitsForLock = false): Promise<SqlRow[]> {
    const work = TEXT_STATEMENTS.test(sql) ? session.query(sql) : session.execute(sql, params as MySql.ExecuteValues[]);
    const [result] = await withStatementTimeout(work, statementTimeout(sql, this.limits, waitsForLock), () => session.destroy());
    return rowsOf(result);
  }

  private connectionConfig(): MySql.ConnectionOptions {
    const o = this.options;
    return {
      host: o.host,
      port: o.port,
      user: o.user,
      password: o.password,
      database: o.database,
      connectTimeout: o.connectTimeoutMs,
      charset: 'UTF8MB4_UNICODE_CI',
      supportBigNumbers: true,
      bigNumberStrings: true,
      enableKeepAlive: true,
    };
  }

  private getPool(): MySql.Pool {
    if (!this.pool) {
      const mysql = loadDriver<typeof MySql>('mysql2/promise', 'DBStore');
      const pool = mysql.createPool({
        ...this.connectionConfig(),
        connectionLimit: this.options.connectionLimit,
        maxIdle: this.options.connectionLimit,
        idleTimeout: 60_000,
        waitForConnections: true,
      });
      pool.on('connection', (connection) => {
        const core = connection as unknown as CoreConnection;
        // A dead idle session must not crash the process; the pool drops it on its own.
        core.on('error', () => undefined);
        for (const statement of SESSION_SETUP) core.query(statement, (error) => error && core.destroy());
      });
      this.pool = pool;
    }
    return this.pool;
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<SqlRow[]> {
    const connection = await this.getPool().getConnection();
    let rows: SqlRow[];
    try {
      rows = await this.run(connection, sql, params);
    } catch (error) {
      if (isBroken(this.classify(error))) connection.destroy();
      else connection.release();
      throw error;
    }
    connection.release();
    return rows;
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const connection = await this.getPool().getConnection();
    let broken = false;
    let commitSent = false;
    const held: string[] = [];
    try {
      await this.run(connection, 'START TRANSACTION', []);
      const tx: SqlTransaction = {
        query: (sql, params = []) => this.run(connection, sql, params),
        serialize: async (name) => {
          const rows = await this.run(connection, 'SELECT GET_LOCK(?, ?) AS got', [name, INSERT_LOCK_WAIT_S], true);
          if (Number(rows[0]?.got) !== 1) {
            throw new TokenStoreError(
              'LOCK_TIMEOUT',
              `Exception in saveToken - DBStore (${this.where}): another process held the insert lock for more than ${INSERT_LOCK_WAIT_S} s`,
            );
          }
          held.push(name);
        },
      };
      const result = await fn(tx);
      commitSent = true;
      await this.run(connection, 'COMMIT', []);
      return result;
    } catch (error) {
      if (isBroken(this.classify(error))) broken = true;
      if (!broken) await this.run(connection, 'ROLLBACK', []).catch(() => (broken = true));
      throw commitSent && broken ? new CommitUncertainError(error) : error;
    } finally {
      // GET_LOCK belongs to the session, not the transaction: release it after COMMIT/ROLLBACK.
      for (const name of held) {
        if (!broken) await this.run(connection, 'DO RELEASE_LOCK(?)', [name]).catch(() => (broken = true));
      }
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  prepareTable(request: TableRequest): Promise<TableInfo> {
    return prepareMySqlTable(this, request, this.options.table);
  }

  async openLockSession(): Promise<LockSession> {
    const mysql = loadDriver<typeof MySql>('mysql2/promise', 'DBStore');
    const connection = await mysql.createConnection(this.connectionConfig());
    connection.on('error', () => undefined);
    try {
      if (!this.lockTable) {
        const ready = prepareMySqlLockTable((sql, params = []) => this.run(connection, sql, params));
        this.lockTable = ready;
        // A failure (server gone) is tried again by the next withLock.
        ready.catch(() => {
          if (this.lockTable === ready) this.lockTable = null;
        });
      }
      return new MySqlLockSession(connection, await this.lockTable, this.limits);
    } catch (error) {
      connection.destroy();
      throw error;
    }
  }

  /** GET_LOCK names are server-wide and at most 64 characters: a hash of table and key. */
  lockName(key: string): string {
    return `ztoken:lock:${hash(`${this.scope}\u0000${key}`)}`;
  }

  classify(error: unknown): DriverErrorKind {
    if (error instanceof QueryTimeoutError) return 'timeout';
    const e = (error ?? {}) as MySqlError;
    const errno = e.errno ?? -1;
    if (errno === 1062) return 'duplicate';
    if (errno === 1213) return 'deadlock';
    if (errno === 1205) return 'lock-timeout';
    if (errno === 1406 || errno === 1366 || errno === 1265) return 'bad-value';
    if (errno === 1146) return 'no-table';
    if (CONNECT_ERRNOS.has(errno) || CONNECT_CODES.has(e.code ?? '')) return 'connect';
    if (CONNECTION_ERRNOS.has(errno) || CONNECTION_CODES.has(e.code ?? '') || e.fatal === true) return 'connection';
    if (/closed state/.test(e.message ?? '')) return 'connection';
    return 'other';
  }

  describe(error: unknown): { message: string; code?: string } {
    const e = (error ?? {}) as MySqlError;
    const o = this.options;
    let message = e.message ?? String(error);
    if (error instanceof QueryTimeoutError)
      message = `the server at ${o.host}:${o.port} did not answer within ${error.timeoutMs} ms (queryTimeoutMs ${o.queryTimeoutMs}); the connection was dropped`;
    else if (e.errno === 1049)
      message = `database "${o.database}" does not exist on ${o.host}:${o.port}; create it first (CREATE DATABASE ${o.database}) or choose another database`;
    else if (this.classify(error) === 'connect' && e.errno === undefined)
      message = `cannot connect to ${o.host}:${o.port} (${e.code ?? 'error'}): ${message}`;
    // The server echoes values in some messages ("Duplicate entry '...'", "Incorrect string value: '...'"): cut them.
    message = message
      .replace(/Duplicate entry '[\s\S]*' for key/, "Duplicate entry '…' for key")
      .replace(/(Incorrect \w+ value:?) '[\s\S]*?' for column/, "$1 '…' for column")
      .split(o.password.length >= 4 ? o.password : '\u0000\u0000')
      .join('…');
    return { message, ...(e.code === undefined ? {} : { code: e.code }) };
  }

  columnOf(error: unknown): ColumnName | undefined {
    const match = /for column [`'"]?(?:[^`'"]*[`'"]\.[`'"])*([a-z_]+)[`'"]?/i.exec((error as MySqlError)?.message ?? '');
    return (match?.[1]?.toLowerCase() as ColumnName | undefined) ?? undefined;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.end();
  }
}

/** The session is gone or was dropped: never hand it back to the pool. */
function isBroken(kind: DriverErrorKind): boolean {
  return kind === 'connection' || kind === 'timeout';
}

/** 160 bits of SHA-256 in hex (lock names may compare case-insensitively). */
function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 40);
}
