/**
 * SQLiteStore: Zoho's oauthtoken table in a SQLite file (default `zohooauth.db`, as in the seed
 * article) or `:memory:`. One connection per store, WAL, an index per lookup column, every value
 * bound, and update-else-insert inside one BEGIN IMMEDIATE transaction, so processes sharing the
 * file never create two rows for one user. withLock uses a lock table with owner and expiry.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { TokenStoreError } from '../errors.js';
import { rowToToken, tokenToRow } from '../row.js';
import { checkReauthMark, inTokenIdOrder, type ReauthMark, readReauthMark } from '../reauth-marks.js';
import type { ReauthMarkStore, TokenStore } from '../store.js';
import {
  compareIds,
  COLUMN_NAMES,
  isNumericId,
  type LookupField,
  MAX_LAYOUT_ID_LENGTH,
  locateForSave,
  lowestId,
  lookupRuleOf,
  nextIdAfter,
  normalizeTokenForSave,
  type OAuthToken,
  type StoredToken,
  TOKEN_FIELDS,
  type TokenField,
  tokenToStore,
  validateId,
} from '../token.js';
import { ClosedGuard } from './closed.js';
import { loadDriver } from './driver.js';
import { acquireWithRetry, newLockOwner, validateLockArgs } from './lock.js';
import { buildTokenSql, insertParams, sqliteDialect, type TokenSql, updateParams } from './sql/dialect.js';
import { validateTableName } from './sql/identifier.js';
import { markOfRow, REAUTH_MARKS_TABLE, type ReauthMarkSql, reauthMarkSql } from './sql/reauth-marks-sql.js';
import {
  absentFields,
  type ColumnFacts,
  detectLayout,
  requiredColumns,
  TABLE_LAYOUTS,
  type TableLayout,
  type TableLayoutName,
  tableLayoutOption,
} from './sql/table-layouts.js';
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
  /**
   * The layout of a new table: 'zoho-v6' (default, today's SDKs), 'zoho-v2', 'zcrmsdk' or
   * 'python' (docs/sql-layouts.md). An existing table's layout is read from its columns; when
   * given, it must agree.
   */
  layout?: TableLayoutName;
}

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

const LOCK_TABLE = 'ztoken_locks';

export class SQLiteStore implements TokenStore, ReauthMarkStore {
  readonly path: string;
  private readonly db: BetterSqlite3.Database;
  private readonly table: string;
  private sql!: TokenSql;
  /** Fields the table's layout has no column for, and NOT NULL columns a save must fill. */
  private absent: TokenField[] = [];
  private required: [TokenField, string][] = [];
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
  private readonly marksSql: ReauthMarkSql = reauthMarkSql(sqliteDialect);

  constructor(options: SQLiteStoreOptions = {}) {
    this.path = options.path ?? 'zohooauth.db';
    this.table = validateTableName(options.table ?? 'oauthtoken');
    const layout = tableLayoutOption('SQLiteStore', options.layout);
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
        `No table "${this.table}" in the SQLite database ${resolve(this.path)}: opened with create: false, so it was not created`,
      );
    }
    try {
      this.prepareSchema(layout);
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
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(this.table) !== undefined;
  }

  /** The table's columns as PRAGMA table_info describes them (declared widths are not enforced by SQLite). */
  private describeColumns(): ColumnFacts[] {
    const rows = this.db.prepare('SELECT name, type, "notnull" AS not_null, dflt_value, pk FROM pragma_table_info(?)').all(this.table) as {
      name: string;
      type: string;
      not_null: number;
      dflt_value: unknown;
      pk: number;
    }[];
    return rows.map((r) => {
      const width = /\(\s*(\d+)\s*\)/.exec(r.type)?.[1];
      const integer = /INT/i.test(r.type);
      return {
        name: r.name,
        ...(width === undefined ? {} : { maxLength: Number(width) }),
        integer,
        // An INTEGER PRIMARY KEY is the rowid: SQLite fills it.
        required: r.not_null === 1 && r.dflt_value === null && !(integer && r.pk > 0),
      };
    });
  }

  /**
   * Creates the table when missing (the layout option's columns), reads an existing table's layout
   * from its columns (never changing them), and adds the indexes that are missing and safe for the
   * layout's other program (docs/sql-layouts.md).
   */
  private prepareSchema(requested: TableLayout | undefined): void {
    if (this.path !== ':memory:' && this.path !== '') this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL survives a killed process; only a power loss may drop the last commits.
    this.db.pragma('synchronous = NORMAL');
    // Reads through a memory map and a larger page cache: lookups in a big table stop paying a
    // read() system call per page (about half the cost of a findToken at 100,000 tokens).
    this.db.pragma('mmap_size = 268435456');
    this.db.pragma('cache_size = -16000');
    let columns = this.describeColumns();
    if (columns.length === 0) {
      const layout = requested ?? TABLE_LAYOUTS['zoho-v6'];
      this.db.exec(buildTokenSql(sqliteDialect, this.table, { layout }).createTable);
      columns = this.describeColumns();
    }
    const layout = detectLayout(columns, requested, this.where());
    const integerId = columns.find((c) => c.name.toLowerCase() === 'id')?.integer === true;
    this.sql = buildTokenSql(sqliteDialect, this.table, { layout, integerId });
    this.absent = absentFields(layout);
    this.required = requiredColumns(layout, columns).map((c) => [
      TOKEN_FIELDS[COLUMN_NAMES.indexOf(c)] as TokenField,
      layout.columns[c] as string,
    ]);
    const indexed = new Set(
      (
        this.db
          .prepare('SELECT ii.name AS col FROM pragma_index_list(?) il JOIN pragma_index_info(il.name) ii WHERE ii.seqno = 0')
          .all(this.table) as { col: string | null }[]
      ).map((r) => String(r.col).toLowerCase()),
    );
    for (const [, statement, column] of this.sql.createIndexes) if (!indexed.has(column.toLowerCase())) this.db.exec(statement);
    const name = this.table;
    if (layout.idNumberIndex && !integerId) {
      this.db.exec(`CREATE INDEX IF NOT EXISTS "${name}_id_num_idx" ON ${this.sql.table} ((${this.sql.idNumber}))`);
    }
    // Earlier versions' (length(id), id) index: no statement uses it any more, and each write paid for it.
    this.db.exec(`DROP INDEX IF EXISTS "${name}_id_len_idx"`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
  }

  /** The table's layout (read from its columns) and the token fields it has no column for. */
  async tableLayout(): Promise<{ name: TableLayoutName; absentFields: TokenField[] }> {
    this.guard.check();
    return { name: this.sql.layout.name, absentFields: [...this.absent] };
  }

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    this.guard.check();
    const rule = lookupRuleOf(partial);
    return rule ? this.run('findToken', () => this.lookup(rule.field, rule.value)) : null;
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    this.guard.check();
    const valid = validateId(id, 'id', this.sql.layout.maxIdLength);
    return this.run('findTokenById', () => this.lookup('id', valid));
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.guard.check();
    const token = normalizeTokenForSave(input, { maxIdLength: MAX_LAYOUT_ID_LENGTH });
    this.checkFits(token);
    const save = this.db.transaction((): StoredToken => {
      const existing = locateForSave(token, (field, value) => this.lookup(field, value));
      const id = existing?.id ?? token.id ?? (this.sql.layout.newIds === 'uuid' ? randomUUID() : nextIdAfter(this.maxNumericId()));
      const stored = tokenToStore(token, id);
      // What the table has no column for is not stored: the saved token says so by lacking it.
      for (const field of this.absent) delete stored[field];
      const row = tokenToRow(stored);
      if (existing) this.stmts.update.run(...updateParams(this.sql, row, id));
      else this.stmts.insert.run(...insertParams(this.sql, row));
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
    const valid = validateId(id, 'id', this.sql.layout.maxIdLength);
    // An integer id column compares '07' as 7: an id that is not a number names no row there.
    if (this.sql.integerId && !isNumericId(valid)) return;
    this.run('deleteToken', () => this.stmts.deleteById.run(valid), 'WRITE_FAILED');
  }

  async getTokens(): Promise<StoredToken[]> {
    this.guard.check();
    return this.run('getTokens', () =>
      (this.stmts.selectAll.all() as (string | number | null)[][]).map((row) => this.toToken(row)).sort((a, b) => compareIds(a.id, b.id)),
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

  /** ReauthMarkStore: a row of the side table ztoken_reauth_marks in the same file (created at the first mark). */
  async setReauthMark(mark: ReauthMark): Promise<void> {
    this.guard.check();
    const clean = checkReauthMark(mark);
    this.run(
      'setReauthMark',
      () => {
        this.db.exec(this.marksSql.create);
        this.db.prepare(this.marksSql.upsert).run(this.table, clean.tokenId, clean.refreshTokenHash, clean.reason, clean.markedAt);
      },
      'WRITE_FAILED',
    );
  }

  async getReauthMark(tokenId: string): Promise<ReauthMark | null> {
    this.guard.check();
    const id = validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH);
    return this.readMarks('getReauthMark', this.marksSql.selectOne, [this.table, id])[0] ?? null;
  }

  async getReauthMarks(): Promise<ReauthMark[]> {
    this.guard.check();
    return inTokenIdOrder(this.readMarks('getReauthMarks', this.marksSql.selectAll, [this.table]));
  }

  async clearReauthMark(tokenId: string): Promise<void> {
    this.guard.check();
    const id = validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH);
    if (!this.hasMarksTable()) return;
    this.run('clearReauthMark', () => this.db.prepare(this.marksSql.delete).run(this.table, id), 'WRITE_FAILED');
  }

  private hasMarksTable(): boolean {
    return (
      this.run('reauthMarks', () =>
        this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(REAUTH_MARKS_TABLE),
      ) !== undefined
    );
  }

  /** Marks read from the side table, validated (a malformed row is skipped with a warning); none without the table. */
  private readMarks(operation: string, sql: string, params: string[]): ReauthMark[] {
    if (!this.hasMarksTable()) return [];
    const rows = this.run(operation, () => this.db.prepare(sql).all(...params) as Record<string, unknown>[]);
    const where = `${this.where()}, side table ${REAUTH_MARKS_TABLE}`;
    return rows.map((row) => readReauthMark(markOfRow(row), where)).filter((mark): mark is ReauthMark => mark !== null);
  }

  async close(): Promise<void> {
    if (this.guard.close()) this.db.close();
  }

  /** The row whose `field` equals `value`, the lowest id when a foreign writer left several. */
  private lookup(field: LookupField, value: string): StoredToken | null {
    if (field === 'id' && this.sql.integerId && !isNumericId(value)) return null;
    const rows = this.select[field].all(value) as (string | number | null)[][];
    return lowestId(rows.map((row) => this.toToken(row)));
  }

  /** A stored row as a token; the text the layout's other program writes for "no value" is absent. */
  private toToken(row: (string | number | null)[]): StoredToken {
    const nullText = this.sql.layout.nullText;
    return rowToToken(nullText === undefined ? row : row.map((cell) => (cell === nullText ? null : cell)), this.where());
  }

  /** Refuses, naming the field, a token the table cannot hold: a non-numeric id for whole-number ids, a NOT NULL column left empty. */
  private checkFits(token: OAuthToken): void {
    if (token.id !== undefined) {
      validateId(token.id, 'token id', this.sql.layout.maxIdLength);
      if (this.sql.integerId && !isNumericId(token.id)) {
        throw new TokenStoreError(
          'INVALID_ARGUMENT',
          `Invalid token id ${JSON.stringify(token.id.slice(0, 20))}: ids of ${this.where()} are whole numbers`,
          {
            field: 'id',
          },
        );
      }
    }
    for (const [field, column] of this.required) {
      if (token[field] === undefined) {
        throw new TokenStoreError(
          'INVALID_TOKEN',
          `Invalid token: ${field} is required by ${this.where()} (column ${column} is NOT NULL)`,
          { field },
        );
      }
    }
  }

  private maxNumericId(): number | null {
    const row = this.stmts.maxNumericId.get() as [number | null] | undefined;
    return row?.[0] ?? null;
  }

  private where(): string {
    return `SQLite table "${this.table}" at ${this.path}`;
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
  const params = url.params(['table', 'layout', 'busyTimeoutMs']);
  return new SQLiteStore({
    path: url.body === ':memory:' ? ':memory:' : url.path(),
    table: params.string('table'),
    busyTimeoutMs: params.number('busyTimeoutMs'),
    layout: params.string('layout') as TableLayoutName | undefined,
    create,
  });
}
