/**
 * The six TokenStore methods (plus withLock and close) written once for network SQL databases,
 * over the driver shim of sql-driver.ts. MySQL (DBStore) and PostgreSQL (PostgresStore) differ
 * only in their driver.
 *
 * saveToken is update-else-insert in one transaction: the matched row is read with FOR UPDATE;
 * when nothing matches, a fleet-wide lock on the table's insert path is taken and the lookup
 * repeated before inserting, so two processes saving the same new user never make two rows.
 * The primary key backs the ids: a duplicate-key insert recomputes the id and retries.
 */
import { randomUUID } from 'node:crypto';
import { TokenStoreError, type TokenStoreReason } from '../../errors.js';
import { recordToRow, rowToToken, tokenToRow } from '../../row.js';
import { checkReauthMark, inTokenIdOrder, type ReauthMark, readReauthMark } from '../../reauth-marks.js';
import type { ReauthMarkStore, TokenStore } from '../../store.js';
import {
  COLUMN_NAMES,
  COLUMN_OF,
  type ColumnName,
  MAX_LAYOUT_ID_LENGTH,
  compareIds,
  isNumericId,
  LOOKUP_FIELDS,
  MAX_ID_LENGTH,
  type LookupField,
  locateForSaveAsync,
  lowestId,
  lookupRuleOf,
  nextIdAfter,
  normalizeTokenForSave,
  type OAuthToken,
  type StoredToken,
  sameTokenContent,
  scrubSecrets,
  secretsOf,
  TOKEN_FIELDS,
  type TokenField,
  tokenToStore,
  validateId,
} from '../../token.js';
import { ClosedGuard } from '../closed.js';
import { acquireWithRetry, newLockOwner, validateLockArgs } from '../lock.js';
import { buildTokenSql, insertParams, type TokenSql, updateParams } from './dialect.js';
import { ExpiredHolderWatch } from './lock-expiry.js';
import { markOfRow, REAUTH_MARKS_TABLE, type ReauthMarkSql, reauthMarkSql } from './reauth-marks-sql.js';
import {
  CommitUncertainError,
  type DriverErrorKind,
  type SqlDriver,
  type SqlRow,
  type SqlRunner,
  type SqlTransaction,
  type TableInfo,
} from './sql-driver.js';
import { absentFields, type TableLayout, type TableLayoutName } from './table-layouts.js';

/** Attempts per call when the session died, a deadlock was chosen, or an id was taken. */
const MAX_ATTEMPTS = 3;
/** How many ids after the cached largest one a new id is looked for in (see newId). */
const ID_WINDOW = 16;
const RETRYABLE: ReadonlySet<DriverErrorKind> = new Set(['connection', 'deadlock', 'duplicate', 'no-table']);

interface Prepared {
  info: TableInfo;
  /** Lookup statements per field, plain and FOR UPDATE, and how many times the value is bound. */
  select: Record<LookupField, string>;
  selectForUpdate: Record<LookupField, string>;
  binds: Record<LookupField, 1 | 2>;
  deleteById: string;
  /** Fields the table's layout has no column for: never stored, so never returned. */
  absent: TokenField[];
  /** The longest id the table holds. */
  maxIdLength: number;
}

export interface AsyncSqlStoreConfig {
  driver: SqlDriver;
  table: string;
  schema?: string;
  /** Create the table when it is missing (default true); false: a missing table is NOT_FOUND. */
  create?: boolean;
  /**
   * The layout of a new table (default zoho-v6, today's SDKs). An existing table's layout is read
   * from its columns; when given, it must agree (table-layouts.ts).
   */
  layout?: TableLayout;
}

export class AsyncSqlStore implements TokenStore, ReauthMarkStore {
  protected readonly driver: SqlDriver;
  protected readonly sql: TokenSql;
  private readonly guard: ClosedGuard;
  private readonly idWindowSql: string;
  private readonly greaterIdSql: string;
  private ready: Promise<Prepared> | null = null;
  private readonly create: boolean;
  private readonly layout: TableLayout | undefined;
  /** The layout read from the table, once prepared. */
  private current: TableLayout | undefined;
  private readonly sqlFor: (layout: TableLayout, integerId: boolean) => TokenSql;
  /**
   * The largest numeric id this store knows of, or null when unknown. Only used where no index
   * can find the largest numeric id (MySQL without the generated column): see newId.
   */
  private maxIdCache: number | null = null;
  /** The token table's name, as its rows in the marks side table name it. */
  private readonly tokenTable: string;
  private readonly marksSql: ReauthMarkSql;

  constructor(config: AsyncSqlStoreConfig) {
    this.driver = config.driver;
    this.tokenTable = config.table;
    this.marksSql = reauthMarkSql(config.driver.dialect, config.schema);
    this.create = config.create ?? true;
    this.layout = config.layout;
    this.guard = new ClosedGuard(config.driver.storeName);
    const d = config.driver.dialect;
    const schema = config.schema === undefined ? {} : { schema: config.schema };
    this.sql = buildTokenSql(d, config.table, { ...schema, ...(config.layout ? { layout: config.layout } : {}) });
    this.sqlFor = (layout, integerId) => buildTokenSql(d, config.table, { ...schema, layout, integerId });
    const id = d.quote('id');
    const window = Array.from({ length: ID_WINDOW }, (_, i) => d.param(i + 1)).join(', ');
    this.idWindowSql = `SELECT ${id} FROM ${this.sql.table} WHERE ${id} IN (${window})`;
    // Numeric ids have no leading zeros, so a longer one is larger, and one as long compares as text.
    this.greaterIdSql =
      `SELECT 1 AS found FROM ${this.sql.table} WHERE (LENGTH(${id}) > ${d.param(1)} OR (LENGTH(${id}) = ${d.param(2)} AND ${id} > ${d.param(3)}))` +
      ` AND ${d.numericIdTest(id)} LIMIT 1`;
  }

  /**
   * Connects and prepares the table now instead of at the first call (openStore does): an
   * unreachable server, or a missing table when the store may not create it, fails here.
   */
  async open(): Promise<void> {
    this.guard.check();
    await this.read('open', () => Promise.resolve(null));
  }

  /** The table's layout (read from its columns) and the token fields it has no column for. */
  async tableLayout(): Promise<{ name: TableLayoutName; absentFields: TokenField[] }> {
    this.guard.check();
    return this.read('tableLayout', async (p) => ({ name: p.info.sql.layout.name, absentFields: [...p.absent] }));
  }

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    this.guard.check();
    const rule = lookupRuleOf(partial);
    if (!rule) return null;
    return this.read('findToken', (p) => this.lookup(this.driver, p, rule.field, rule.value, false), [rule.value]);
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    this.guard.check();
    const valid = validateId(id, 'id', MAX_LAYOUT_ID_LENGTH);
    return this.read('findTokenById', (p) => this.lookup(this.driver, p, 'id', validateId(valid, 'id', p.maxIdLength), false));
  }

  async getTokens(): Promise<StoredToken[]> {
    this.guard.check();
    return this.read('getTokens', async (p) =>
      (await this.driver.query(p.info.sql.selectAll)).map((r) => this.toToken(r, p)).sort((a, b) => compareIds(a.id, b.id)),
    );
  }

  async deleteToken(id: string): Promise<void> {
    this.guard.check();
    const valid = validateId(id, 'id', MAX_LAYOUT_ID_LENGTH);
    await this.write('deleteToken', async (p) => {
      validateId(valid, 'id', p.maxIdLength);
      // An integer id column compares '7x' as 7: an id that is not a number names no row there.
      if (p.info.sql.integerId && !isNumericId(valid)) return;
      await this.driver.query(p.deleteById, p.binds.id === 2 ? [valid, valid] : [valid]);
    });
    // The largest id may be gone: the next new id follows what is left.
    if (this.maxIdCache !== null && isNumericId(valid) && Number(valid) >= this.maxIdCache) this.maxIdCache = null;
  }

  async deleteTokens(): Promise<void> {
    this.guard.check();
    await this.write('deleteTokens', async (p) => {
      await this.driver.query(p.info.sql.deleteAll);
    });
    this.maxIdCache = null;
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.guard.check();
    const token = normalizeTokenForSave(input, { maxIdLength: MAX_LAYOUT_ID_LENGTH });
    const secrets = secretsOf(token);
    for (let attempt = 1; ; attempt++) {
      let attempted: StoredToken | undefined;
      let prepared: Prepared | undefined;
      try {
        prepared = await this.prepared();
        this.checkFits(token, prepared);
        const p = prepared;
        return await this.driver.transaction((tx) => this.saveIn(tx, p, token, (stored) => (attempted = stored)));
      } catch (error) {
        if (error instanceof TokenStoreError) throw error;
        this.maxIdCache = null;
        const original = error instanceof CommitUncertainError ? error.original : error;
        const kind = this.driver.classify(original);
        // A server that stopped answering is not asked again (each try would wait queryTimeoutMs).
        const uncertain = error instanceof CommitUncertainError && kind !== 'timeout';
        if (uncertain && attempted && prepared) {
          // The commit may have landed: if the row is stored as we wrote it, the save succeeded.
          const landed = await this.lookup(this.driver, prepared, 'id', attempted.id, false).catch(() => null);
          if (landed && sameTokenContent(landed, attempted)) return attempted;
        }
        if (kind === 'no-table') this.ready = null;
        if (attempt < MAX_ATTEMPTS && (RETRYABLE.has(kind) || uncertain)) {
          await pauseBeforeRetry(kind, attempt);
          continue;
        }
        throw this.wrap(original, 'saveToken', 'WRITE_FAILED', secrets);
      }
    }
  }

  /**
   * BulkInsertStore: multi-row INSERTs in one transaction, under the insert lock that saveToken
   * takes for a new row (no save inserts meanwhile), while the table holds `expectedCount` rows.
   */
  async bulkInsert(tokens: readonly StoredToken[], expectedCount: number): Promise<boolean> {
    this.guard.check();
    const stored = tokens.map((input) => tokenToStore(normalizeTokenForSave(input), validateId(input.id)));
    const BATCH = 500; // 5,000 bound values per INSERT, far below either server's limit
    const d = this.driver.dialect;
    const values = (count: number) =>
      Array.from({ length: count }, (_, r) => `(${COLUMN_NAMES.map((_, c) => d.param(r * COLUMN_NAMES.length + c + 1)).join(', ')})`).join(
        ', ',
      );
    try {
      const p = await this.prepared();
      for (const token of stored) this.checkLengths(token, p.info);
      return await this.driver.transaction(async (tx) => {
        await tx.serialize(this.driver.insertLockName);
        const [counted] = await tx.query(`SELECT COUNT(*) AS n FROM ${this.sql.table}`);
        if (Number(counted?.n) !== expectedCount) return false;
        for (let start = 0; start < stored.length; start += BATCH) {
          const batch = stored.slice(start, start + BATCH);
          await tx.query(`INSERT INTO ${this.sql.table} (${this.sql.columns}) VALUES ${values(batch.length)}`, batch.flatMap(tokenToRow));
        }
        return true;
      });
    } catch (error) {
      if (error instanceof TokenStoreError) throw error;
      const original = error instanceof CommitUncertainError ? error.original : error;
      throw this.wrap(original, 'bulkInsert', 'WRITE_FAILED', stored.flatMap(secretsOf));
    } finally {
      this.maxIdCache = null;
    }
  }

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    this.guard.check();
    validateLockArgs(key, ttlMs);
    const name = this.driver.lockName(key);
    const session = await this.driver.openLockSession().catch((error: unknown) => {
      throw this.wrap(error, 'withLock', 'UNAVAILABLE');
    });
    const owner = newLockOwner();
    // Waiters enforce the holder's ttl too: a frozen holder never runs its own timer below.
    const watch = new ExpiredHolderWatch(session, name);
    try {
      await acquireWithRetry(
        async () => {
          if (await session.tryLock(name, owner, ttlMs)) return true;
          await watch.afterMiss();
          return false;
        },
        key,
        ttlMs,
        this.driver.where,
      );
    } catch (error) {
      session.destroy();
      throw this.wrap(error, 'withLock', 'UNAVAILABLE');
    }
    // Database locks live as long as their session: dropping it after ttlMs frees the lock even
    // when fn hangs, and a crashed process frees it at once. A session takes one lock, once, so a
    // late release (or a waiter's kill) can never touch the next owner's lock.
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      session.destroy();
    }, ttlMs);
    timer.unref();
    try {
      return await fn();
    } finally {
      clearTimeout(timer);
      if (!expired) await session.release(name).catch(() => session.destroy());
    }
  }

  /** ReauthMarkStore: a row of the side table ztoken_reauth_marks (created at the first mark). */
  async setReauthMark(mark: ReauthMark): Promise<void> {
    this.guard.check();
    const clean = checkReauthMark(mark);
    const params = [this.tokenTable, clean.tokenId, clean.refreshTokenHash, clean.reason, clean.markedAt];
    try {
      await this.driver.query(this.marksSql.upsert, params).catch(async (error: unknown) => {
        if (this.driver.classify(error) !== 'no-table') throw error;
        // Another process may be creating it too: its CREATE winning is as good as ours.
        await this.driver.query(this.marksSql.create).catch(() => undefined);
        await this.driver.query(this.marksSql.upsert, params);
      });
    } catch (error) {
      throw this.wrap(error, 'setReauthMark', 'WRITE_FAILED');
    }
  }

  async getReauthMark(tokenId: string): Promise<ReauthMark | null> {
    this.guard.check();
    const id = validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH);
    const rows = await this.readMarks('getReauthMark', this.marksSql.selectOne, [this.tokenTable, id]);
    return rows[0] ?? null;
  }

  async getReauthMarks(): Promise<ReauthMark[]> {
    this.guard.check();
    const marks = await this.readMarks('getReauthMarks', this.marksSql.selectAll, [this.tokenTable]);
    return inTokenIdOrder(marks);
  }

  async clearReauthMark(tokenId: string): Promise<void> {
    this.guard.check();
    const id = validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH);
    try {
      await this.driver.query(this.marksSql.delete, [this.tokenTable, id]);
    } catch (error) {
      if (this.driver.classify(error) === 'no-table') return;
      throw this.wrap(error, 'clearReauthMark', 'WRITE_FAILED');
    }
  }

  /** Marks read from the side table, validated (a malformed row is skipped with a warning); none without the table. */
  private async readMarks(operation: string, sql: string, params: unknown[]): Promise<ReauthMark[]> {
    let rows: SqlRow[];
    try {
      rows = await this.driver.query(sql, params);
    } catch (error) {
      if (this.driver.classify(error) === 'no-table') return [];
      throw this.wrap(error, operation, 'UNAVAILABLE');
    }
    const where = `${this.driver.where}, side table ${REAUTH_MARKS_TABLE}`;
    return rows.map((row) => readReauthMark(markOfRow(row), where)).filter((mark): mark is ReauthMark => mark !== null);
  }

  async close(): Promise<void> {
    if (this.guard.close()) await this.driver.close();
  }

  // -------------------------------------------------------------------------------------------

  private async saveIn(tx: SqlTransaction, p: Prepared, token: OAuthToken, note: (stored: StoredToken) => void): Promise<StoredToken> {
    const find = (field: LookupField, value: string) => this.lookup(tx, p, field, value, true);
    let existing = await locateForSaveAsync(token, find);
    if (!existing) {
      // Nothing to lock yet: serialize inserts fleet-wide, then look again (another process
      // may have inserted this user while we looked).
      await tx.serialize(this.driver.insertLockName);
      existing = await locateForSaveAsync(token, find);
    }
    const uuid = p.info.sql.layout.newIds === 'uuid';
    const generated = !existing && token.id === undefined && !uuid;
    const id = existing?.id ?? token.id ?? (uuid ? randomUUID() : await this.newId(tx, p));
    const stored = tokenToStore(token, id);
    // What the table has no column for is not stored: the saved token says so by lacking it.
    for (const field of p.absent) delete stored[field];
    note(stored);
    const row = tokenToRow(stored);
    if (existing) {
      await tx.query(p.info.sql.update, updateParams(p.info.sql, row, id));
    } else {
      await tx.query(p.info.sql.insert, insertParams(p.info.sql, row));
      if (generated) this.maxIdCache = Number(id);
      else if (this.maxIdCache !== null && isNumericId(id)) this.maxIdCache = Math.max(this.maxIdCache, Number(id));
    }
    return stored;
  }

  /**
   * The next id: the largest numeric id + 1, found through the table's id-number index (one
   * probe; it sees rows other programs inserted). Without that index (MySQL where the generated
   * column could not be added), the cached largest id and the ids after it are probed by primary
   * key in one query. The cached id must still be there (another store may have deleted it: then
   * the largest is below it, and only the table can say which); the id after the last taken one
   * in the window is then the candidate, unless the whole window is taken (other writers ran far
   * ahead). Another writer may also have taken an id past the window (a caller-chosen id): the
   * candidate stands only when no numeric id above it exists, else the table is scanned for the
   * largest. The primary key still guards every insert.
   */
  private async newId(tx: SqlRunner, p: Prepared): Promise<string> {
    if (p.info.maxNumericId !== undefined) return nextIdAfter(maxIdOf(await tx.query(p.info.maxNumericId)));
    const cached = this.maxIdCache;
    if (cached !== null && String(cached + ID_WINDOW - 1).length <= MAX_ID_LENGTH) {
      const window = Array.from({ length: ID_WINDOW }, (_, i) => String(cached + i));
      const taken = (await tx.query(this.idWindowSql, window)).map((r) => Number(r.id)).filter((n) => Number.isSafeInteger(n));
      const last = Math.max(...taken);
      if (taken.includes(cached) && last < cached + ID_WINDOW - 1) {
        const candidate = String(last + 1);
        const greater = await tx.query(this.greaterIdSql, [candidate.length, candidate.length, candidate]);
        if (greater.length === 0) return candidate;
      }
    }
    return nextIdAfter(maxIdOf(await tx.query(p.info.sql.maxNumericId)));
  }

  /** The stored token whose `field` equals `value` (lowest id when several do), or null. */
  private async lookup(runner: SqlRunner, p: Prepared, field: LookupField, value: string, forUpdate: boolean): Promise<StoredToken | null> {
    if (field === 'id' && p.info.sql.integerId && !isNumericId(value)) return null;
    const rows = await runner.query(
      forUpdate ? p.selectForUpdate[field] : p.select[field],
      p.binds[field] === 2 ? [value, value] : [value],
    );
    return lowestId(rows.map((record) => this.toToken(record, p)));
  }

  /** A stored row as a token; the text the layout's other program writes for "no value" is absent. */
  private toToken(record: Record<string, unknown>, p: Prepared): StoredToken {
    const row = recordToRow(record);
    const nullText = p.info.sql.layout.nullText;
    return rowToToken(nullText === undefined ? row : row.map((cell) => (cell === nullText ? null : cell)), this.driver.where);
  }

  /**
   * Refuses, naming the field, a token the table cannot hold as given: an id too long for it (or
   * not a number, for a whole-number id), no value for a NOT NULL column, a value longer than its
   * column (instead of letting it be cut).
   */
  private checkFits(token: OAuthToken, p: Prepared): void {
    const info = p.info;
    if (token.id !== undefined) {
      validateId(token.id, 'token id', p.maxIdLength);
      if (info.sql.integerId && !isNumericId(token.id)) {
        throw new TokenStoreError(
          'INVALID_ARGUMENT',
          `Invalid token id ${JSON.stringify(token.id.slice(0, 20))}: ids of ${this.driver.where} are whole numbers`,
          { field: 'id' },
        );
      }
    }
    for (const column of info.required) {
      const field = TOKEN_FIELDS[COLUMN_NAMES.indexOf(column)] as TokenField;
      if (token[field] === undefined) {
        throw new TokenStoreError(
          'INVALID_TOKEN',
          `Invalid token: ${field} is required by ${this.driver.where} (column ${info.sql.layout.columns[column]} is NOT NULL)`,
          { field },
        );
      }
    }
    this.checkLengths(token, info);
  }

  /** Refuses a value longer than its column, naming the field, instead of letting it be cut. */
  private checkLengths(token: OAuthToken, info: TableInfo): void {
    TOKEN_FIELDS.forEach((field, i) => {
      const column = COLUMN_NAMES[i] as ColumnName;
      const max = info.maxLength[column];
      const value = token[field];
      if (max === undefined || value === undefined || info.sql.layout.columns[column] === undefined) return;
      const text = String(value);
      if (text.length <= max) return;
      const characters = [...text].length;
      if (characters > max) {
        throw new TokenStoreError(
          'INVALID_TOKEN',
          `Invalid token: ${field} is ${characters} characters long; column ${info.sql.layout.columns[column]} of ${this.driver.where} holds at most ${max}`,
          { field },
        );
      }
    });
  }

  private prepared(): Promise<Prepared> {
    if (!this.ready) {
      const request = { sqlFor: this.sqlFor, create: this.create, ...(this.layout ? { layout: this.layout } : {}) };
      const ready = this.driver.prepareTable(request).then((info) => this.buildStatements(info));
      this.ready = ready;
      // A failed preparation (server down, no privileges) is tried again by the next call.
      ready.catch(() => {
        if (this.ready === ready) this.ready = null;
      });
    }
    return this.ready;
  }

  private buildStatements(info: TableInfo): Prepared {
    const d = this.driver.dialect;
    const select = {} as Record<LookupField, string>;
    const selectForUpdate = {} as Record<LookupField, string>;
    const binds = {} as Record<LookupField, 1 | 2>;
    const sql = info.sql;
    this.current = sql.layout;
    for (const field of LOOKUP_FIELDS) {
      const column = COLUMN_OF[field];
      const exact = info.exactMatch[column];
      const where = `${d.quote(sql.layout.columns[column] as string)} = ${d.param(1)}${exact ? ` AND ${exact}` : ''}`;
      select[field] = `SELECT ${sql.columns} FROM ${sql.table} WHERE ${where}`;
      selectForUpdate[field] = `${select[field]} FOR UPDATE`;
      binds[field] = exact ? 2 : 1;
    }
    const exactId = info.exactMatch.id;
    return {
      info,
      select,
      selectForUpdate,
      binds,
      deleteById: `${sql.deleteById}${exactId ? ` AND ${exactId}` : ''}`,
      absent: absentFields(sql.layout),
      maxIdLength: Math.min(info.maxLength.id ?? sql.layout.maxIdLength, sql.integerId ? 10 : MAX_LAYOUT_ID_LENGTH),
    };
  }

  /** Runs a read, retrying when the session died, and wraps what the driver throws. */
  private async read<T>(operation: string, fn: (p: Prepared) => Promise<T>, secrets: string[] = []): Promise<T> {
    return this.attempt(operation, 'UNAVAILABLE', fn, secrets);
  }

  private async write(operation: string, fn: (p: Prepared) => Promise<void>): Promise<void> {
    return this.attempt(operation, 'WRITE_FAILED', fn, []);
  }

  private async attempt<T>(operation: string, reason: TokenStoreReason, fn: (p: Prepared) => Promise<T>, secrets: string[]): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(await this.prepared());
      } catch (error) {
        if (error instanceof TokenStoreError) throw error;
        const kind = this.driver.classify(error);
        if (kind === 'no-table') this.ready = null;
        if (attempt < MAX_ATTEMPTS && RETRYABLE.has(kind) && kind !== 'duplicate') {
          await pauseBeforeRetry(kind, attempt);
          continue;
        }
        throw this.wrap(error, operation, reason, secrets);
      }
    }
  }

  /**
   * A TokenStoreError naming the store and where it lives. The driver's text is scrubbed of
   * echoed values and secrets, and the cause is a scrubbed copy, never the driver's error.
   */
  protected wrap(error: unknown, operation: string, reason: TokenStoreReason, secrets: string[] = []): TokenStoreError {
    if (error instanceof TokenStoreError) return error;
    const kind = this.driver.classify(error);
    const described = this.driver.describe(error);
    const text = scrubSecrets(described.message, secrets);
    const cause = Object.assign(new Error(text), described.code === undefined ? {} : { code: described.code });
    const message = `Exception in ${operation} - ${this.driver.storeName} (${this.driver.where}): ${text}`;
    if (kind === 'bad-value') {
      const named = this.driver.columnOf(error);
      // The server names the table's own column (user_mail): map it back through the layout.
      const layout = (this.current ?? this.sql.layout).columns;
      const column = COLUMN_NAMES.find((c) => c === named || layout[c] === named);
      const field = column === undefined ? undefined : TOKEN_FIELDS[COLUMN_NAMES.indexOf(column)];
      return new TokenStoreError(
        'INVALID_TOKEN',
        `Invalid token: ${field ?? 'a value'} cannot be stored in ${this.driver.where}: ${text}`,
        {
          cause,
          ...(field === undefined ? {} : { field }),
        },
      );
    }
    const finalReason: TokenStoreReason =
      kind === 'connect' || kind === 'timeout' ? 'UNAVAILABLE' : kind === 'lock-timeout' ? 'LOCK_TIMEOUT' : reason;
    return new TokenStoreError(finalReason, message, { cause });
  }
}

/**
 * After a dropped session, wait a moment before retrying: it lets the pool see the other
 * sessions the server closed at the same time (a restart, a mass KILL) and drop them, instead of
 * handing the retry another dead one.
 */
function maxIdOf(rows: SqlRow[]): string | null {
  const raw = rows[0]?.max_id;
  return raw === null || raw === undefined ? null : String(raw);
}

function pauseBeforeRetry(kind: DriverErrorKind, attempt: number): Promise<void> {
  const ms = kind === 'connection' || kind === 'deadlock' ? 10 * 4 ** (attempt - 1) : 0;
  return ms === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
