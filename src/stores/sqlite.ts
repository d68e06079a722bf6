/**
 * SQLiteStore: Zoho's oauthtoken table in a SQLite file (default `zohooauth.db`, as in the seed
 * article) or `:memory:`. One connection per store, WAL, an index per lookup column, every value
 * bound, and update-else-insert inside one BEGIN IMMEDIATE transaction, so processes sharing the
 * file never create two rows for one user. withLock uses a lock table with owner and expiry.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { TokenStoreError } from '../errors.js';
import { rowToToken, tokenToRow } from '../row.js';
import type { TokenStore } from '../store.js';
import {
  compareIds,
  type LookupField,
  locateForSave,
  lowestId,
  lookupRuleOf,
  nextIdAfter,
  normalizeTokenForSave,
  type OAuthToken,
  type StoredToken,
  tokenToStore,
  validateId,
} from '../token.js';
import { ClosedGuard } from './closed.js';
import { loadDriver } from './driver.js';
import { acquireWithRetry, newLockOwner, validateLockArgs } from './lock.js';
import { buildTokenSql, sqliteDialect, type TokenSql } from './sql/dialect.js';
import type { StoreUrl } from './url-params.js';

export interface SQLiteStoreOptions {
  /** Database file, or ':memory:'. Default 'zohooauth.db'. */
  path?: string;
  /** Table name (a plain identifier). Default 'oauthtoken'. */
  table?: string;
  /** How long a writer waits for another process's write transaction. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * Create the database file and the table when missing (default true); false: a missing file
   * or table fails with NOT_FOUND and nothing is created (':memory:' is always new).
   */
  create?: boolean;
}

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

const LOCK_TABLE = 'ztoken_locks';

export class SQLiteStore implements TokenStore {
  readonly path: string;
  private readonly db: BetterSqlite3.Database;
  private readonly sql: TokenSql;
  private readonly select: Record<LookupField, Statement>;
  private readonly stmts: {
    selectAll: Statement;
    insert: Statement;
    update: Statement;
    deleteById: Statement;
    deleteAll: Statement;
    maxNumericId: Statement;
    lockTake: Statement;
    lockClearExpired: Statement;
    lockRelease: Statement;
  };
  private readonly guard = new ClosedGuard('SQLiteStore');

  constructor(options: SQLiteStoreOptions = {}) {
    this.path = options.path ?? 'zohooauth.db';
    this.sql = buildTokenSql(sqliteDialect, options.table ?? 'oauthtoken');
    const Database = loadDriver<typeof BetterSqlite3>('better-sqlite3', 'SQLiteStore');
    const inMemory = this.path === ':memory:' || this.path === '';
    const create = (options.create ?? true) || inMemory;
    if (!create && !existsSync(this.path)) {
      throw new TokenStoreError('NOT_FOUND', `No SQLite database at ${resolve(this.path)}: opened with create: false, so none was created`);
    }
    try {
      this.db = new Database(this.path, { timeout: options.busyTimeoutMs ?? 5000, fileMustExist: !create });
    } catch (error) {
      throw new TokenStoreError('UNAVAILABLE', `Cannot open SQLite database at ${this.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!create && !this.hasTable()) {
      this.db.close();
      throw new TokenStoreError(
        'NOT_FOUND',
        `No table ${this.sql.table} in the SQLite database ${resolve(this.path)}: opened with create: false, so it was not created`,
      );
    }
    try {
      this.prepareSchema();
      const s = this.sql;
      const prepare = (text: string) => this.db.prepare(text).raw(true);
      this.select = Object.fromEntries(Object.entries(s.selectBy).map(([field, text]) => [field, prepare(text)])) as Record<
        LookupField,
        Statement
      >;
      this.stmts = {
        selectAll: prepare(s.selectAll),
        insert: this.db.prepare(s.insert),
        update: this.db.prepare(s.update),
        deleteById: this.db.prepare(s.deleteById),
        deleteAll: this.db.prepare(s.deleteAll),
        // MAX over the expression index on the id's number: one probe at the end of the index.
        maxNumericId: prepare(s.maxNumericId),
        lockTake: this.db.prepare(`INSERT OR IGNORE INTO ${LOCK_TABLE} (name, owner, expires_at) VALUES (?, ?, ?)`),
        lockClearExpired: this.db.prepare(`DELETE FROM ${LOCK_TABLE} WHERE name = ? AND expires_at <= ?`),
        lockRelease: this.db.prepare(`DELETE FROM ${LOCK_TABLE} WHERE name = ? AND owner = ?`),
      };
    } catch (error) {
      this.db.close();
      throw this.wrap(error, 'open', 'UNAVAILABLE');
    }
  }

  private hasTable(): boolean {
    const name = this.sql.table.slice(1, -1);
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  private prepareSchema(): void {
    if (this.path !== ':memory:' && this.path !== '') this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL survives a killed process; only a power loss may drop the last commits.
    this.db.pragma('synchronous = NORMAL');
    // Reads through a memory map and a larger page cache: lookups in a big table stop paying a
    // read() system call per page (about half the cost of a findToken at 100,000 tokens).
    this.db.pragma('mmap_size = 268435456');
    this.db.pragma('cache_size = -16000');
    this.db.exec(this.sql.createTable);
    for (const [, statement] of this.sql.createIndexes) this.db.exec(statement);
    const name = this.sql.table.slice(1, -1);
    this.db.exec(`CREATE INDEX IF NOT EXISTS "${name}_id_num_idx" ON ${this.sql.table} ((${this.sql.idNumber}))`);
    // Earlier versions' (length(id), id) index: no statement uses it any more, and each write paid for it.
    this.db.exec(`DROP INDEX IF EXISTS "${name}_id_len_idx"`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
  }

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    this.guard.check();
    const rule = lookupRuleOf(partial);
    return rule ? this.run('findToken', () => this.lookup(rule.field, rule.value)) : null;
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    this.guard.check();
    const valid = validateId(id);
    return this.run('findTokenById', () => this.lookup('id', valid));
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.guard.check();
    const token = normalizeTokenForSave(input);
    const save = this.db.transaction((): StoredToken => {
      const existing = locateForSave(token, (field, value) => this.lookup(field, value));
      const id = existing?.id ?? token.id ?? nextIdAfter(this.maxNumericId());
      const stored = tokenToStore(token, id);
      const row = tokenToRow(stored);
      if (existing) this.stmts.update.run(...row.slice(1), id);
      else this.stmts.insert.run(...row);
      return stored;
    });
    // IMMEDIATE takes the write lock before reading, so two processes cannot both decide "insert".
    return this.run('saveToken', () => save.immediate(), 'WRITE_FAILED');
  }

  /** BulkInsertStore: one IMMEDIATE transaction of INSERTs, while the table holds `expectedCount` rows. */
  async bulkInsert(tokens: readonly StoredToken[], expectedCount: number): Promise<boolean> {
    this.guard.check();
    const rows = tokens.map((input) => tokenToRow(tokenToStore(normalizeTokenForSave(input), validateId(input.id))));
    const count = this.db.prepare(`SELECT COUNT(*) FROM ${this.sql.table}`).pluck();
    const insertAll = this.db.transaction((): boolean => {
      if (count.get() !== expectedCount) return false;
      for (const row of rows) this.stmts.insert.run(...row);
      return true;
    });
    return this.run('bulkInsert', () => insertAll.immediate(), 'WRITE_FAILED');
  }

  async deleteToken(id: string): Promise<void> {
    this.guard.check();
    const valid = validateId(id);
    this.run('deleteToken', () => this.stmts.deleteById.run(valid), 'WRITE_FAILED');
  }

  async getTokens(): Promise<StoredToken[]> {
    this.guard.check();
    return this.run('getTokens', () =>
      (this.stmts.selectAll.all() as unknown[][])
        .map((row) => rowToToken(row as string[], this.where()))
        .sort((a, b) => compareIds(a.id, b.id)),
    );
  }

  async deleteTokens(): Promise<void> {
    this.guard.check();
    this.run('deleteTokens', () => this.stmts.deleteAll.run(), 'WRITE_FAILED');
  }

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    this.guard.check();
    validateLockArgs(key, ttlMs);
    const owner = newLockOwner();
    const take = this.db.transaction((): boolean => {
      const now = Date.now();
      this.stmts.lockClearExpired.run(key, now);
      return this.stmts.lockTake.run(key, owner, now + ttlMs).changes === 1;
    });
    // A busy file is LOCK_TIMEOUT (wrap); any other failure to take the lock is the store's, not the lock's.
    await acquireWithRetry(() => this.run('withLock', () => take.immediate(), 'UNAVAILABLE'), key, ttlMs, this.where());
    try {
      return await fn();
    } finally {
      // A failed release (the file busy past busyTimeoutMs) must not replace fn's outcome: the
      // lock expires by its ttl anyway, as in the other stores.
      try {
        if (this.db.open) this.stmts.lockRelease.run(key, owner);
      } catch {
        // Left to expire.
      }
    }
  }

  async close(): Promise<void> {
    if (this.guard.close()) this.db.close();
  }

  /** The row whose `field` equals `value`, the lowest id when a foreign writer left several. */
  private lookup(field: LookupField, value: string): StoredToken | null {
    const rows = this.select[field].all(value) as (string | null)[][];
    return lowestId(rows.map((row) => rowToToken(row, this.where())));
  }

  private maxNumericId(): number | null {
    const row = this.stmts.maxNumericId.get() as [number | null] | undefined;
    return row?.[0] ?? null;
  }

  private where(): string {
    return `SQLite table ${this.sql.table} at ${this.path}`;
  }

  /** Runs a database call, turning driver errors into TokenStoreErrors that name the file. */
  private run<T>(operation: string, fn: () => T, reason: 'UNAVAILABLE' | 'WRITE_FAILED' | 'LOCK_TIMEOUT' = 'UNAVAILABLE'): T {
    try {
      return fn();
    } catch (error) {
      throw this.wrap(error, operation, reason);
    }
  }

  private wrap(error: unknown, operation: string, reason: 'UNAVAILABLE' | 'WRITE_FAILED' | 'LOCK_TIMEOUT' | 'CORRUPT'): Error {
    if (error instanceof TokenStoreError) return error;
    const message = (error as Error).message ?? String(error);
    const code = (error as { code?: string }).code ?? '';
    const kind = code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' ? 'CORRUPT' : code === 'SQLITE_BUSY' ? 'LOCK_TIMEOUT' : reason;
    // SQLite's messages never contain bound values, so they are safe to pass on.
    return new TokenStoreError(kind, `Exception in ${operation} - SQLiteStore (${this.where()}): ${message}`, {
      cause: error,
    });
  }
}

/** The store a `sqlite:` URL names (see url.ts): `?table=` and `?busyTimeoutMs=`, as the options. */
export async function sqliteStoreFromUrl(url: StoreUrl, create: boolean): Promise<SQLiteStore> {
  const params = url.params(['table', 'busyTimeoutMs']);
  return new SQLiteStore({
    path: url.body === ':memory:' ? ':memory:' : url.path(),
    table: params.string('table'),
    busyTimeoutMs: params.number('busyTimeoutMs'),
    create,
  });
}
