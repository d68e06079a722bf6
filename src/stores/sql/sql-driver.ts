/**
 * The tiny driver shim the network SQL stores (MySQL, PostgreSQL) share: run a statement, run a
 * transaction, hold a named lock on a dedicated session, and say what kind of failure an error
 * is. Everything else (matching, ids, update-else-insert) is written once in async-sql-store.ts.
 */
import type { ColumnName } from '../../token.js';
import type { SqlDialect, TokenSql } from './dialect.js';

/** One result row, keyed by column name (as both drivers return them). */
export type SqlRow = Record<string, unknown>;

export interface SqlRunner {
  /** Runs one statement with bound parameters; resolves to its rows (empty for writes). */
  query(sql: string, params?: readonly unknown[]): Promise<SqlRow[]>;
}

export interface SqlTransaction extends SqlRunner {
  /**
   * Takes a lock named `name` that lasts until this transaction ends, so only one transaction
   * fleet-wide runs the guarded section at a time (used around "nothing matched: insert").
   */
  serialize(name: string): Promise<void>;
}

/** A dedicated connection holding named session locks (withLock). */
export interface LockSession {
  /** Takes the lock without waiting; true when taken. */
  tryLock(name: string): Promise<boolean>;
  /** Releases the lock and ends the session. */
  release(name: string): Promise<void>;
  /** Drops the connection at once; the server frees every lock it held. */
  destroy(): void;
}

/** What the store needs to know about the table it works on. */
export interface TableInfo {
  /** Longest value (in characters) each column accepts; absent for unbounded columns. */
  maxLength: Partial<Record<ColumnName, number>>;
  /**
   * An extra predicate per column, with one placeholder for the same value, when the column's
   * own comparison is not exact (MySQL case- or accent-insensitive collations).
   */
  exactMatch: Partial<Record<ColumnName, string>>;
}

/**
 * How a failure is handled: `connection` (the session died: retry on a new one), `connect`
 * (the server cannot be reached or refuses us: fail fast), `duplicate` (primary key taken:
 * recompute and retry), `deadlock` (retry), `bad-value` (a value the column cannot hold: too long, bad characters),
 * `lock-timeout`, `no-table` (dropped underneath us: create it again next time), `other`.
 */
export type DriverErrorKind = 'connection' | 'connect' | 'duplicate' | 'deadlock' | 'bad-value' | 'lock-timeout' | 'no-table' | 'other';

export interface SqlDriver extends SqlRunner {
  readonly dialect: SqlDialect;
  /** The store's public name, e.g. 'DBStore'. */
  readonly storeName: string;
  /** Where the data lives, for messages: engine, host:port/database and table. Never a secret. */
  readonly where: string;
  /** Whether the largest numeric id is expensive to compute (no index can serve it). */
  readonly slowMaxId: boolean;
  /** Runs fn in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /** Creates the table when missing, adds lookup indexes when allowed, and describes it. */
  prepareTable(sql: TokenSql, idNumberExpression: string): Promise<TableInfo>;
  /** Opens a dedicated session for withLock. */
  openLockSession(): Promise<LockSession>;
  /** The name of the session lock for `key`, scoped to this store's table. */
  lockName(key: string): string;
  /** The name that serializes inserts into this store's table. */
  readonly insertLockName: string;
  classify(error: unknown): DriverErrorKind;
  /**
   * The error's text with nothing a secret could hide in (values echoed by the server are cut),
   * plus the driver's error code when it has one.
   */
  describe(error: unknown): { message: string; code?: string };
  /** The column a `bad-value` error names, when the server says. */
  columnOf(error: unknown): ColumnName | undefined;
  close(): Promise<void>;
}

/**
 * The connection died after COMMIT was sent: the transaction may or may not have been applied.
 * The store checks what is stored before deciding to retry.
 */
export class CommitUncertainError extends Error {
  constructor(readonly original: unknown) {
    super('the connection was lost while committing');
    this.name = 'CommitUncertainError';
  }
}
