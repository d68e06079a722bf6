/**
 * The tiny driver shim the network SQL stores (MySQL, PostgreSQL) share: run a statement, run a
 * transaction, hold a named lock on a dedicated session, and say what kind of failure an error
 * is. Everything else (matching, ids, update-else-insert) is written once in async-sql-store.ts.
 */
import type { ColumnName } from '../../token.js';
import type { SqlDialect, TokenSql } from './dialect.js';
import type { TableLayout } from './table-layouts.js';

/** One result row, keyed by column name (as both drivers return them). */
export type SqlRow = Record<string, unknown>;

/** The rows of a driver result; a write's result (an OK packet, a count) has none. */
export function rowsOf(result: unknown): SqlRow[] {
  return Array.isArray(result) ? (result as SqlRow[]) : [];
}

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

/** The session holding a lock, as recorded by it when it took the lock (see lock-expiry.ts). */
export interface LockHolder {
  /** The holder's session: MySQL connection id, PostgreSQL backend pid. */
  session: number;
  owner: string;
  /** Milliseconds until the lock expires, by the server's clock (zero or less: expired). */
  remainingMs: number;
}

/**
 * A dedicated connection holding named session locks (withLock). One session takes a lock at
 * most once (the store opens a new one per withLock), so a session found holding a lock past
 * its expiry can never be holding a fresh one.
 */
export interface LockSession {
  /**
   * Takes the lock without waiting and, in the same statement, records owner and expiry (ttlMs
   * from now by the server's clock) where waiters can read them; true when taken.
   */
  tryLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Who holds `name` and when it expires; null when it is free or its holder left no record. */
  findHolder(name: string): Promise<LockHolder | null>;
  /**
   * Ends the holder's session if it still holds `name` as `holder.owner` past its expiry (checked
   * again by the server at that moment); the server then frees the lock. False when not ended.
   */
  endExpiredHolder(name: string, holder: LockHolder): Promise<boolean>;
  /** Releases the lock and ends the session. */
  release(name: string): Promise<void>;
  /** Drops the connection at once; the server frees every lock it held. */
  destroy(): void;
}

/** What the store asks of prepareTable. */
export interface TableRequest {
  /** The statements for a layout; the driver picks the layout from the table (detectLayout). */
  sqlFor(layout: TableLayout, integerId: boolean): TokenSql;
  /** The store's layout option: the layout of a new table, and checked against an existing one. */
  layout?: TableLayout;
  /** Create the table when missing; false: a missing table is NOT_FOUND. */
  create: boolean;
}

/** What the store needs to know about the table it works on. */
export interface TableInfo {
  /** The statements for the table's layout (sql.layout), detected from its columns. */
  sql: TokenSql;
  /** Canonical columns the table makes NOT NULL without default (id aside): a save must fill them. */
  required: ColumnName[];
  /** Longest value (in characters) each column accepts; absent for unbounded columns. */
  maxLength: Partial<Record<ColumnName, number>>;
  /**
   * An extra predicate per column, with one placeholder for the same value, when the column's
   * own comparison is not exact (MySQL case- or accent-insensitive collations).
   */
  exactMatch: Partial<Record<ColumnName, string>>;
  /**
   * The statement (column `max_id`) that finds the largest numeric id through an index; absent
   * when the table has no such index (MySQL without the generated column): the store then
   * probes the ids after the last one it made (async-sql-store.ts newId).
   */
  maxNumericId?: string;
}

/**
 * How a failure is handled: `connection` (the session died: retry on a new one), `connect`
 * (the server cannot be reached or refuses us: fail fast), `timeout` (the server did not answer
 * a statement within queryTimeoutMs: the session was dropped; fail fast, no retry), `duplicate`
 * (primary key taken: recompute and retry), `deadlock` (retry), `bad-value` (a value the column
 * cannot hold: too long, bad characters), `lock-timeout`, `no-table` (dropped underneath us:
 * create it again next time), `other`.
 */
export type DriverErrorKind =
  | 'connection'
  | 'connect'
  | 'timeout'
  | 'duplicate'
  | 'deadlock'
  | 'bad-value'
  | 'lock-timeout'
  | 'no-table'
  | 'other';

export interface SqlDriver extends SqlRunner {
  readonly dialect: SqlDialect;
  /** The store's public name, e.g. 'DBStore'. */
  readonly storeName: string;
  /** Where the data lives, for messages: engine, host:port/database and table. Never a secret. */
  readonly where: string;
  /** Runs fn in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /**
   * Creates the table when missing (unless `create` is false: then a missing table is NOT_FOUND),
   * adds lookup indexes when allowed, and describes it.
   */
  prepareTable(request: TableRequest): Promise<TableInfo>;
  /**
   * Opens a dedicated session for withLock; the first one of a store also makes sure the lock side
   * table exists (lock-expiry.ts), or finds that it may not be created (locks then go unrecorded).
   */
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

/** A statement got no answer within its time limit; the connection it ran on was dropped. */
export class QueryTimeoutError extends Error {
  readonly code = 'QUERY_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'QueryTimeoutError';
  }
}

/** How long a server may take to answer a statement before the store gives up on it. */
export interface StatementLimits {
  /** For every data statement (the store option queryTimeoutMs). */
  queryTimeoutMs: number;
  /** The server-side wait for a row or named lock that a statement may legitimately spend on top. */
  lockWaitMs: number;
}

/**
 * The client-side time limit of one statement, so a server that hangs mid-query fails the call
 * instead of blocking it forever: reads get queryTimeoutMs; statements that may wait for a row or
 * named lock (writes, FOR UPDATE, GET_LOCK) get the server's lock wait on top, so the server's own
 * lock-timeout error comes first; DDL gets none (building an index on a big table may be slow).
 * Statements that wait for a named lock say so with `waitsForLock`.
 */
export function statementTimeout(sql: string, limits: StatementLimits, waitsForLock = false): number | undefined {
  if (/^\s*(CREATE|ALTER|DROP)\b/i.test(sql)) return undefined;
  const waits = waitsForLock || /^\s*(INSERT|UPDATE|DELETE)\b|\bFOR UPDATE\s*$/i.test(sql);
  return limits.queryTimeoutMs + (waits ? limits.lockWaitMs : 0);
}

/**
 * Resolves or rejects as `work` does, unless `timeoutMs` passes first: then `abandon` drops the
 * connection (a hung server must not keep it, nor the statements queued behind) and the call
 * rejects with QueryTimeoutError.
 */
export function withStatementTimeout<T>(work: Promise<T>, timeoutMs: number | undefined, abandon: () => void): Promise<T> {
  if (timeoutMs === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      abandon();
      reject(new QueryTimeoutError(timeoutMs));
    }, timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
