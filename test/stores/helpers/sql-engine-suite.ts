/**
 * The tests DBStore (MySQL/MariaDB) and PostgresStore share, written once against an engine
 * description: the conformance kit; Zoho's table created, or taken as Zoho's SQL made it, or
 * refused when incomplete; values longer than a column; numeric ids across instances; a
 * unique-key error without its secret; connection failures; sessions the server kills under the
 * store. Each engine's test file describes its engine (driver, admin connection, server views,
 * what its tables must look like: types, collation, indexes) and adds the tests that are its
 * own (PostgreSQL: schemas, connection strings).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenStoreError } from '../../../src/errors.js';
import type { AsyncSqlStore } from '../../../src/stores/sql/async-sql-store.js';
import { runTokenStoreConformance, sampleToken } from '../../../src/testing/index.js';
import { caughtStoreError, errorChainText } from '../../helpers/errors.js';
import { uniqueName } from '../../services.js';
import { type SqlTarget, waitFor } from './sql-admin.js';
import { closedPort, silentServer } from './sql-net.js';

export type Row = Record<string, unknown>;

/** An admin connection, whatever its driver: `query` resolves to the rows (none for a statement). */
export interface SqlAdmin {
  query<R = Row>(sql: string, params?: unknown[]): Promise<R[]>;
  end(): Promise<void>;
}

/** A session of the server, as its process list shows it. */
export interface SqlSession {
  id: number;
  /** The statement it runs ('' when idle). */
  query: string;
  /** Whether it waits on a lock, where the server says so (PostgreSQL); undefined where it does not (MySQL). */
  waiting?: boolean;
}

export type SqlStore = AsyncSqlStore & { readonly table: string };

/** The options every SQL store takes. */
export interface SqlStoreOptions extends Partial<SqlTarget> {
  table?: string;
  connectTimeoutMs?: number;
}

export interface SqlEngine {
  /** The describe name in the test output. */
  name: string;
  /** The store's name for the conformance kit. */
  storeName: string;
  available: boolean;
  target: SqlTarget;
  /** A store on the test server: the target with `options` over it. */
  open(options?: SqlStoreOptions): SqlStore;
  /** A store for 127.0.0.1:`port` (where nothing listens), given `password` the way users give it. */
  openDown(port: number, password: string): SqlStore;
  /** Constructors given bad options (other than the table name), and what each throws. */
  invalidOptions: [construct: () => unknown, error: RegExp | typeof TokenStoreError][];
  admin(database?: string): Promise<SqlAdmin>;
  /** Every row of a table, as the server holds it, ordered by id. */
  rows(table: string, database?: string): Promise<Row[]>;
  dropTable(table: string): Promise<void>;
  quote(identifier: string): string;
  /** The placeholders of `count` bound parameters, comma-separated. */
  placeholders(count: number): string;
  /** Zoho's CREATE TABLE as users of the official SDK run it on this engine (see zohoCreateTable). */
  zohoTable(table: string): string;
  /** Lists a database by name (one bound parameter): no row when there is none. */
  databaseQuery: string;
  dropDatabase(database: string): string;
  /** Answers the id of the admin connection's own session, as `id`. */
  sessionIdQuery: string;
  /** The sessions connected to `database`, but for the admin's own. */
  sessions(admin: SqlAdmin, database: string): Promise<SqlSession[]>;
  kill(admin: SqlAdmin, session: number): Promise<unknown>;
  /** What the server's own duplicate-key message says (the store passes it on, without the value). */
  duplicateKeyText: string;
  /** The table's column descriptions, to compare before and after a store used it. */
  columns(admin: SqlAdmin, table: string): Promise<Row[]>;
  /** The engine's checks of the table a store created (types, collation, indexes), and what they check (in the test's name). */
  createdTable: { checks: string; expect(admin: SqlAdmin, table: string): Promise<void> };
  /** Checks the indexes a store added to a table made with Zoho's SQL. */
  expectAddedIndexes(admin: SqlAdmin, table: string): Promise<void>;
}

/** Admin connections over a driver's (`connect` opens one): `query` answers the rows of a statement run on it. */
export function sqlAdmins<C extends { end(): Promise<void> }>(
  connect: (database?: string) => Promise<C>,
  query: (connection: C, sql: string, params?: unknown[]) => Promise<unknown>,
): (database?: string) => Promise<SqlAdmin> {
  return async (database) => {
    const connection = await connect(database);
    return {
      query: async <R>(sql: string, params?: unknown[]) => (await query(connection, sql, params)) as R[],
      end: () => connection.end(),
    };
  };
}

/** What an engine's own schema tests get: the admin connection and fresh table names, dropped after. */
export interface SchemaContext {
  readonly admin: SqlAdmin;
  fresh(): string;
}

export interface OwnTests {
  /** Inside the 'schema' describe. */
  schema?(ctx: SchemaContext): void;
  /** Inside the 'connections' describe. */
  connections?(): void;
}

/** Zoho's CREATE TABLE (ZOHO.md) for a quoted table name, with the engine's table options. */
export const zohoCreateTable = (quotedTable: string, tableOptions = '') =>
  `CREATE TABLE ${quotedTable} (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id))${tableOptions}`;

/** Zoho's columns in order, with their varchar lengths. */
export const ZOHO_COLUMNS: [name: string, length: number][] = [
  ['id', 10],
  ['user_name', 255],
  ['client_id', 255],
  ['client_secret', 255],
  ['refresh_token', 255],
  ['access_token', 255],
  ['grant_token', 255],
  ['expiry_time', 20],
  ['redirect_url', 255],
  ['api_domain', 255],
];

/** The shared tests of one engine, under its own describe name (skipped when its server is not reachable). */
export function describeSqlStore(engine: SqlEngine, own: OwnTests = {}): void {
  const { target } = engine;
  const q = engine.quote;

  describe.skipIf(!engine.available)(engine.name, () => {
    runTokenStoreConformance({
      name: engine.storeName,
      create: () => engine.open({ table: uniqueName('zt') }),
      cleanup: async (store) => {
        await store.close();
        await engine.dropTable((store as SqlStore).table);
      },
      raw: async (store) => JSON.stringify(await engine.rows((store as SqlStore).table)),
      propertyRuns: 25,
    });

    describe('schema', () => {
      let admin: SqlAdmin;
      const tables: string[] = [];
      const fresh = () => {
        const table = uniqueName('zt');
        tables.push(table);
        return table;
      };
      beforeAll(async () => {
        admin = await engine.admin();
      });
      afterAll(async () => {
        for (const table of tables) await admin.query(`DROP TABLE IF EXISTS ${q(table)}`);
        await admin.end();
      });
      const insertRow = (table: string, id: string, user: string, access: string) =>
        admin.query(`INSERT INTO ${q(table)} (id, user_name, access_token) VALUES (${engine.placeholders(3)})`, [id, user, access]);

      own.schema?.({
        get admin() {
          return admin;
        },
        fresh,
      });

      it(`creates Zoho's table: ${engine.createdTable.checks}`, async () => {
        const table = fresh();
        const store = engine.open({ table });
        await store.saveToken(sampleToken('alice', { expiryTime: 1767225600001 }));
        await store.close();
        await engine.createdTable.expect(admin, table);
        expect(await admin.query(`SELECT id, user_name, expiry_time FROM ${q(table)}`)).toEqual([
          { id: '1', user_name: 'alice', expiry_time: '1767225600001' },
        ]);
      });

      it("uses a table made with Zoho's SQL as it is: no column changed, indexes added, lookups exact, ids numeric", async () => {
        const table = fresh();
        await admin.query(engine.zohoTable(table));
        await admin.query(
          `INSERT INTO ${q(table)} VALUES ('9', 'alice', 'cid', 'sec', '1000.r.alice', '1000.a.alice', NULL, '1767225600000', NULL, 'https://www.zohoapis.com')`,
        );
        const before = await engine.columns(admin, table);
        const store = engine.open({ table });
        expect(await store.findToken({ userName: 'alice' })).toEqual({
          id: '9',
          userName: 'alice',
          clientId: 'cid',
          clientSecret: 'sec',
          refreshToken: '1000.r.alice',
          accessToken: '1000.a.alice',
          expiryTime: 1767225600000,
          apiDomain: 'https://www.zohoapis.com',
        });
        // The column's collation may be case-insensitive (MySQL's is); the store's lookups are not.
        expect(await store.findToken({ userName: 'ALICE' })).toBeNull();
        expect(await store.findToken({ accessToken: '1000.A.ALICE' })).toBeNull();
        expect((await store.saveToken(sampleToken('ALICE'))).id).toBe('10');
        expect((await store.getTokens()).map((t) => [t.id, t.userName])).toEqual([
          ['9', 'alice'],
          ['10', 'ALICE'],
        ]);
        await store.close();
        expect(await engine.columns(admin, table)).toEqual(before);
        await engine.expectAddedIndexes(admin, table);
      });

      it("refuses a table without Zoho's columns, naming the table and what is missing", async () => {
        const table = fresh();
        await admin.query(`CREATE TABLE ${q(table)} (id varchar(10) PRIMARY KEY, user_name varchar(255))`);
        const store = engine.open({ table });
        const error = await caughtStoreError(store.getTokens());
        expect(error.reason).toBe('CORRUPT');
        expect(error.message).toContain(table);
        expect(error.message).toContain('refresh_token');
        await store.close();
      });

      it('refuses a value longer than its column, naming the field, and changes nothing', async () => {
        const table = fresh();
        const store = engine.open({ table });
        const saved = await store.saveToken(sampleToken('alice'));
        const long = `1000.${'r'.repeat(300)}`;
        const error = await caughtStoreError(store.saveToken(sampleToken('alice', { refreshToken: long })));
        expect(error.reason).toBe('INVALID_TOKEN');
        expect(error.field).toBe('refreshToken');
        expect(error.message).toContain('refreshToken');
        expect(error.message).not.toContain(long);
        // 255 characters, four bytes each, fit.
        const emoji = '🚀'.repeat(255);
        await store.saveToken(sampleToken('bob', { apiDomain: emoji }));
        expect((await store.findToken({ userName: 'bob' }))?.apiDomain).toBe(emoji);
        expect(await store.findToken({ userName: 'alice' })).toEqual(saved);
        await store.close();
      });

      it("refuses a value longer than a narrower column of someone else's table", async () => {
        const table = fresh();
        await admin.query(engine.zohoTable(table).replace('client_id varchar(255)', 'client_id varchar(20)'));
        const store = engine.open({ table });
        const error = await caughtStoreError(store.saveToken(sampleToken('alice', { clientId: 'c'.repeat(21) })));
        expect(error).toMatchObject({ reason: 'INVALID_TOKEN', field: 'clientId' });
        expect(await store.getTokens()).toEqual([]);
        await store.close();
      });

      it('numbers ids numerically across store instances sharing the table, never reusing a taken id', async () => {
        const table = fresh();
        const a = engine.open({ table });
        const b = engine.open({ table });
        for (const user of ['u1', 'u2', 'u3']) await a.saveToken(sampleToken(user));
        expect((await b.saveToken(sampleToken('u4'))).id).toBe('4');
        // a's next candidate (4) is taken: it looks the largest id up again.
        expect((await a.saveToken(sampleToken('u5'))).id).toBe('5');
        await insertRow(table, '6', 'other', '1000.a.other');
        expect((await a.saveToken(sampleToken('u7'))).id).toBe('7');
        await insertRow(table, '99', 'another', '1000.a.another');
        const c = engine.open({ table });
        expect((await c.saveToken(sampleToken('u100'))).id).toBe('100');
        // Deleting the largest ids: the next id follows what is left.
        await c.deleteToken('100');
        await c.deleteToken('99');
        expect((await c.saveToken(sampleToken('u8'))).id).toBe('8');
        const ids = (await a.getTokens()).map((t) => t.id);
        expect(ids).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
        // Another store deletes the largest id that a and c remember: theirs follows what is left.
        await b.deleteToken('8');
        expect((await c.saveToken(sampleToken('u8b'))).id).toBe('8');
        await b.deleteToken('8');
        await b.deleteToken('7');
        expect((await a.saveToken(sampleToken('u7b'))).id).toBe('7');
        for (const store of [a, b, c]) await store.close();
      });

      it('a new id is the largest numeric id + 1 even when another writer took one far past the cached largest', async () => {
        const table = fresh();
        const a = engine.open({ table });
        await a.saveToken(sampleToken('first', { id: '11' }));
        for (let id = 12; id <= 19; id++) await insertRow(table, String(id), `u${id}`, `1000.a.${id}`);
        // a learns the largest id (19) from the table, so its next candidates are 21, 22, ...
        expect((await a.saveToken(sampleToken('u20'))).id).toBe('20');
        await insertRow(table, '40', 'far', '1000.a.far');
        await insertRow(table, 'custom', 'named', '1000.a.named');
        expect((await a.saveToken(sampleToken('u41'))).id).toBe('41');
        expect((await a.saveToken(sampleToken('u42'))).id).toBe('42');
        await insertRow(table, '100', 'longer', '1000.a.longer');
        expect((await a.saveToken(sampleToken('u101'))).id).toBe('101');
        await a.close();
      });

      it('a unique-key error echoed by the server reaches neither the message nor the cause', async () => {
        const table = fresh();
        await admin.query(engine.zohoTable(table));
        // Someone else's table with a unique refresh token: the server's message quotes the duplicate value.
        await admin.query(`CREATE UNIQUE INDEX ${q(`${table}_uniq`)} ON ${q(table)} (refresh_token)`);
        const store = engine.open({ table });
        const secret = '1000.refresh.shared.0123456789abcdef';
        await store.saveToken(sampleToken('alice', { refreshToken: secret }));
        const error = await caughtStoreError(store.saveToken(sampleToken('bob', { refreshToken: secret })));
        expect(error.reason).toBe('WRITE_FAILED');
        expect(error.message).toContain(`${target.host}:${target.port}/${target.database}`);
        expect(error.message).toContain(table);
        expect(error.message).toContain(engine.duplicateKeyText);
        expect(errorChainText(error)).not.toContain(secret);
        expect(await store.getTokens()).toHaveLength(1);
        await store.close();
      });
    });

    describe('connections', () => {
      own.connections?.();

      it('a database that does not exist: an error naming host:port/database, and no database is created', async () => {
        const database = uniqueName('zt_missing');
        const store = engine.open({ database });
        const error = await caughtStoreError(store.getTokens());
        expect(error.reason).toBe('UNAVAILABLE');
        expect(error.message).toContain(`${target.host}:${target.port}/${database}`);
        expect(error.message).toContain('does not exist');
        const admin = await engine.admin();
        expect(await admin.query(engine.databaseQuery, [database])).toEqual([]);
        await admin.end();
        await store.close();
      });

      it('a server that is down: the constructor does not throw, the first call names host and port', async () => {
        const port = await closedPort();
        const store = engine.openDown(port, 'hunter2-secret-pw');
        const started = Date.now();
        const error = await caughtStoreError(store.findToken({ userName: 'alice' }));
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(error.reason).toBe('UNAVAILABLE');
        expect(error.message).toContain(`127.0.0.1:${port}`);
        expect(errorChainText(error)).not.toContain('hunter2-secret-pw');
        await store.close();
      });

      it('a server that accepts and never answers: fails after connectTimeoutMs, naming host and port', async () => {
        const server = await silentServer();
        const store = engine.open({ host: '127.0.0.1', port: server.port, connectTimeoutMs: 300 });
        const started = Date.now();
        const error = await caughtStoreError(store.getTokens());
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(error.reason).toBe('UNAVAILABLE');
        expect(error.message).toContain(`127.0.0.1:${server.port}`);
        await store.close();
        await server.close();
      });

      it('rejects bad options before connecting', () => {
        expect(() => engine.open({ table: 'oauthtoken; DROP TABLE x' })).toThrow(/Invalid table name/);
        for (const [construct, error] of engine.invalidOptions) expect(construct).toThrow(error);
      });

      describe("killed sessions (a database of their own, to find the store's sessions)", () => {
        let database: string;
        let admin: SqlAdmin;
        const sessions = () => engine.sessions(admin, database);
        /** The session of `holder`, whose row lock the store's save waits on. */
        const sessionOf = async (holder: SqlAdmin) => Number((await holder.query<{ id: unknown }>(engine.sessionIdQuery))[0]?.id);
        /** Sessions (other than the holder's) waiting in a SELECT ... FOR UPDATE. */
        const blocked = async (holder: number) =>
          (await sessions()).filter((s) => s.id !== holder && s.waiting !== false && /FOR UPDATE/.test(s.query));
        /** A session of its own holding alice's row, so that a save blocks inside its transaction. */
        const holdAlice = async (table: string) => {
          const holder = await engine.admin(database);
          await holder.query('START TRANSACTION');
          await holder.query(`SELECT * FROM ${q(table)} WHERE user_name = 'alice' FOR UPDATE`);
          return { holder, id: await sessionOf(holder) };
        };
        beforeAll(async () => {
          database = uniqueName('zt_db');
          admin = await engine.admin();
          await admin.query(`CREATE DATABASE ${q(database)}`);
        });
        afterAll(async () => {
          await admin.query(engine.dropDatabase(database));
          await admin.end();
        });

        it('killing every pooled session: the next calls reconnect and succeed; close() ends the pool', async () => {
          const store = engine.open({ database, table: 'killed' });
          await store.saveToken(sampleToken('alice'));
          await Promise.all([store.saveToken(sampleToken('bob')), store.findToken({ userName: 'x' }), store.getTokens()]);
          const before = await sessions();
          expect(before.length).toBeGreaterThan(0);
          for (const s of before) await engine.kill(admin, s.id);
          expect((await store.findToken({ userName: 'alice' }))?.id).toBe('1');
          expect((await store.saveToken(sampleToken('carol'))).id).toBe('3');
          expect((await store.getTokens()).map((t) => t.userName)).toEqual(['alice', 'bob', 'carol']);
          await store.close();
          await waitFor(async () => (await sessions()).length === 0, 'the pool to close its sessions');
          await expect(store.getTokens()).rejects.toMatchObject({ reason: 'CLOSED' });
        });

        it('a session killed in the middle of a save leaves every stored token as it was', async () => {
          const table = 'midsave';
          const store = engine.open({ database, table });
          await store.saveToken(sampleToken('alice'));
          await store.saveToken(sampleToken('bob'));
          const rowsBefore = await engine.rows(table, database);
          const { holder, id: holderId } = await holdAlice(table);
          const saving = store.saveToken(sampleToken('alice', { accessToken: '1000.access.new', refreshToken: '1000.refresh.new' }));
          const first = await waitFor(async () => (await blocked(holderId))[0], 'the save to block on the row lock');
          await engine.kill(admin, first.id);
          // The store retries on a new session, which blocks again; meanwhile nothing has changed.
          const second = await waitFor(async () => (await blocked(holderId)).find((s) => s.id !== first.id), 'the retried save to block');
          expect(second.id).not.toBe(first.id);
          expect(await engine.rows(table, database)).toEqual(rowsBefore);
          await holder.query('ROLLBACK');
          await holder.end();
          expect(await saving).toMatchObject({ id: '1', accessToken: '1000.access.new' });
          expect((await store.getTokens()).map((t) => [t.id, t.userName, t.accessToken])).toEqual([
            ['1', 'alice', '1000.access.new'],
            ['2', 'bob', '1000.access.bob.eeeeffff00001111'],
          ]);
          await store.close();
        });

        it('a session killed in the middle of every attempt: the save fails cleanly and nothing changed', async () => {
          const table = 'midsave2';
          const store = engine.open({ database, table });
          await store.saveToken(sampleToken('alice'));
          const rowsBefore = await engine.rows(table, database);
          const { holder, id: holderId } = await holdAlice(table);
          const saving = caughtStoreError(store.saveToken(sampleToken('alice', { accessToken: '1000.access.never' })));
          const killed = new Set<number>();
          let settled = false;
          void saving.finally(() => (settled = true));
          while (!settled) {
            const s = (await blocked(holderId)).find((x) => !killed.has(x.id));
            if (s) {
              killed.add(s.id);
              await engine.kill(admin, s.id).catch(() => undefined);
            }
            await new Promise((r) => setTimeout(r, 20));
          }
          const error = await saving;
          expect(error.reason).toBe('WRITE_FAILED');
          expect(error.message).toContain(`${database}, table ${table}`);
          expect(killed.size).toBe(3);
          await holder.query('ROLLBACK');
          await holder.end();
          expect(await engine.rows(table, database)).toEqual(rowsBefore);
          expect((await store.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.alice.eeeeffff00001111');
          await store.close();
        });
      });
    });
  });
}
