import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import { DBStore } from '../../src/stores/mysql.js';
import { runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';
import { MYSQL_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropMySqlTable, mysqlAdmin, mysqlRows, mysqlTarget, waitFor } from './helpers/sql-admin.js';
import { closedPort, silentServer } from './helpers/sql-net.js';
import { caughtStoreError, errorChainText } from '../helpers/errors.js';

const available = await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL');
const target = mysqlTarget();

/** Zoho's own CREATE TABLE (ZOHO.md), as the official SDK's users run it: server-default collation. */
const ZOHO_TABLE = (table: string) =>
  `CREATE TABLE \`${table}\` (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;

describe.skipIf(!available)('DBStore (MySQL/MariaDB)', () => {
  runTokenStoreConformance({
    name: 'DBStore',
    create: () => new DBStore({ ...target, table: uniqueName('zt') }),
    cleanup: async (store) => {
      await store.close();
      await dropMySqlTable((store as DBStore).table);
    },
    raw: async (store) => JSON.stringify(await mysqlRows((store as DBStore).table)),
    propertyRuns: 25,
  });

  describe('schema', () => {
    let admin: mysql.Connection;
    const tables: string[] = [];
    const fresh = () => {
      const table = uniqueName('zt');
      tables.push(table);
      return table;
    };
    beforeAll(async () => {
      admin = await mysqlAdmin();
    });
    afterAll(async () => {
      for (const table of tables) await admin.query(`DROP TABLE IF EXISTS \`${table}\``);
      await admin.end();
    });
    const columnsOf = async (table: string) =>
      (
        await admin.query(
          'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
          [table],
        )
      )[0] as { name: string; type: string; coll: string }[];
    const indexedColumns = async (table: string) =>
      (
        (
          await admin.query(
            'SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1',
            [table],
          )
        )[0] as { name: string }[]
      ).map((r) => r.name);

    it("creates Zoho's table: Zoho's columns and types, exact (binary) comparison, an index per lookup column", async () => {
      const table = fresh();
      const store = new DBStore({ ...target, table });
      await store.saveToken(sampleToken('alice', { expiryTime: 1767225600001 }));
      await store.close();
      const columns = await columnsOf(table);
      expect(columns.map((c) => [c.name, c.type])).toEqual([
        ['id', 'varchar(10)'],
        ['user_name', 'varchar(255)'],
        ['client_id', 'varchar(255)'],
        ['client_secret', 'varchar(255)'],
        ['refresh_token', 'varchar(255)'],
        ['access_token', 'varchar(255)'],
        ['grant_token', 'varchar(255)'],
        ['expiry_time', 'varchar(20)'],
        ['redirect_url', 'varchar(255)'],
        ['api_domain', 'varchar(255)'],
      ]);
      expect(new Set(columns.map((c) => c.coll))).toEqual(new Set(['utf8mb4_bin']));
      expect(await indexedColumns(table)).toEqual(
        expect.arrayContaining(['id', 'user_name', 'refresh_token', 'access_token', 'grant_token']),
      );
      expect((await admin.query(`SELECT id, user_name, expiry_time FROM \`${table}\``))[0]).toEqual([
        { id: '1', user_name: 'alice', expiry_time: '1767225600001' },
      ]);
    });

    it("uses a table made with Zoho's SQL as it is: no column changed, indexes added, lookups exact, ids numeric", async () => {
      const table = fresh();
      await admin.query(ZOHO_TABLE(table));
      await admin.query(
        `INSERT INTO \`${table}\` VALUES ('9', 'alice', 'cid', 'sec', '1000.r.alice', '1000.a.alice', NULL, '1767225600000', NULL, 'https://www.zohoapis.com')`,
      );
      const before = await columnsOf(table);
      const store = new DBStore({ ...target, table });
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
      // The column collation is case-insensitive; the store's lookups are not.
      expect(await store.findToken({ userName: 'ALICE' })).toBeNull();
      expect(await store.findToken({ accessToken: '1000.A.ALICE' })).toBeNull();
      const bob = await store.saveToken(sampleToken('ALICE'));
      expect(bob.id).toBe('10');
      expect((await store.getTokens()).map((t) => [t.id, t.userName])).toEqual([
        ['9', 'alice'],
        ['10', 'ALICE'],
      ]);
      await store.close();
      expect(await columnsOf(table)).toEqual(before);
      expect(await indexedColumns(table)).toEqual(expect.arrayContaining(['user_name', 'refresh_token', 'access_token', 'grant_token']));
    });

    it("refuses a table without Zoho's columns, naming the table and what is missing", async () => {
      const table = fresh();
      await admin.query(`CREATE TABLE \`${table}\` (id varchar(10) PRIMARY KEY, user_name varchar(255))`);
      const store = new DBStore({ ...target, table });
      const error = await caughtStoreError(store.getTokens());
      expect(error.reason).toBe('CORRUPT');
      expect(error.message).toContain(table);
      expect(error.message).toContain('refresh_token');
      await store.close();
    });

    it('refuses a value longer than its column, naming the field, and changes nothing', async () => {
      const table = fresh();
      const store = new DBStore({ ...target, table });
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
      await admin.query(ZOHO_TABLE(table).replace('client_id varchar(255)', 'client_id varchar(20)'));
      const store = new DBStore({ ...target, table });
      const error = await caughtStoreError(store.saveToken(sampleToken('alice', { clientId: 'c'.repeat(21) })));
      expect(error).toMatchObject({ reason: 'INVALID_TOKEN', field: 'clientId' });
      expect(await store.getTokens()).toEqual([]);
      await store.close();
    });

    it('numbers ids numerically across store instances sharing the table, never reusing a taken id', async () => {
      const table = fresh();
      const a = new DBStore({ ...target, table });
      const b = new DBStore({ ...target, table });
      for (const user of ['u1', 'u2', 'u3']) await a.saveToken(sampleToken(user));
      expect((await b.saveToken(sampleToken('u4'))).id).toBe('4');
      // a's next candidate (4) is taken: it looks the largest id up again.
      expect((await a.saveToken(sampleToken('u5'))).id).toBe('5');
      await admin.query(`INSERT INTO \`${table}\` (id, user_name, access_token) VALUES ('6', 'other', '1000.a.other')`);
      expect((await a.saveToken(sampleToken('u7'))).id).toBe('7');
      await admin.query(`INSERT INTO \`${table}\` (id, user_name, access_token) VALUES ('99', 'another', '1000.a.another')`);
      const c = new DBStore({ ...target, table });
      expect((await c.saveToken(sampleToken('u100'))).id).toBe('100');
      // Deleting the largest ids: the next id follows what is left.
      await c.deleteToken('100');
      await c.deleteToken('99');
      expect((await c.saveToken(sampleToken('u8'))).id).toBe('8');
      const ids = (await a.getTokens()).map((t) => t.id);
      expect(ids).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
      for (const store of [a, b, c]) await store.close();
    });

    it('a new id is the largest numeric id + 1 even when another writer took one far past the cached largest', async () => {
      const table = fresh();
      const a = new DBStore({ ...target, table });
      await a.saveToken(sampleToken('first', { id: '11' }));
      for (let id = 12; id <= 19; id++) {
        await admin.query(`INSERT INTO \`${table}\` (id, user_name, access_token) VALUES (?, ?, ?)`, [
          String(id),
          `u${id}`,
          `1000.a.${id}`,
        ]);
      }
      // a learns the largest id (19) from the table, so its next candidates are 21, 22, ...
      expect((await a.saveToken(sampleToken('u20'))).id).toBe('20');
      await admin.query(`INSERT INTO \`${table}\` (id, user_name, access_token) VALUES ('40', 'far', '1000.a.far')`);
      await admin.query(`INSERT INTO \`${table}\` (id, user_name, access_token) VALUES ('custom', 'named', '1000.a.named')`);
      expect((await a.saveToken(sampleToken('u41'))).id).toBe('41');
      expect((await a.saveToken(sampleToken('u42'))).id).toBe('42');
      await admin.query(`INSERT INTO \`${table}\` (id, user_name, access_token) VALUES ('100', 'longer', '1000.a.longer')`);
      expect((await a.saveToken(sampleToken('u101'))).id).toBe('101');
      await a.close();
    });

    it('a duplicate-entry error echoed by the server reaches neither the message nor the cause', async () => {
      const table = fresh();
      await admin.query(ZOHO_TABLE(table));
      // Someone else's table with a unique refresh token: MySQL answers "Duplicate entry '<token>'".
      await admin.query(`CREATE UNIQUE INDEX uniq_refresh ON \`${table}\` (refresh_token)`);
      const store = new DBStore({ ...target, table, password: '' });
      const secret = '1000.refresh.shared.0123456789abcdef';
      await store.saveToken(sampleToken('alice', { refreshToken: secret }));
      const error = await caughtStoreError(store.saveToken(sampleToken('bob', { refreshToken: secret })));
      expect(error.reason).toBe('WRITE_FAILED');
      expect(error.message).toContain(`${target.host}:${target.port}/${target.database}`);
      expect(error.message).toContain(table);
      expect(error.message).toContain('Duplicate entry');
      expect(errorChainText(error)).not.toContain(secret);
      expect(await store.getTokens()).toHaveLength(1);
      await store.close();
    });
  });

  describe('connections', () => {
    it('a database that does not exist: an error naming host:port/database, and no database is created', async () => {
      const database = uniqueName('zt_missing');
      const store = new DBStore({ ...target, database });
      const error = await caughtStoreError(store.getTokens());
      expect(error.reason).toBe('UNAVAILABLE');
      expect(error.message).toContain(`${target.host}:${target.port}/${database}`);
      expect(error.message).toContain('does not exist');
      const admin = await mysqlAdmin();
      expect((await admin.query('SHOW DATABASES LIKE ?', [database]))[0]).toEqual([]);
      await admin.end();
      await store.close();
    });

    it('a server that is down: the constructor does not throw, the first call names host and port', async () => {
      const port = await closedPort();
      const store = new DBStore({ ...target, host: '127.0.0.1', port, password: 'hunter2-secret-pw' });
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
      const store = new DBStore({ ...target, host: '127.0.0.1', port: server.port, connectTimeoutMs: 300 });
      const started = Date.now();
      const error = await caughtStoreError(store.getTokens());
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(error.reason).toBe('UNAVAILABLE');
      expect(error.message).toContain(`127.0.0.1:${server.port}`);
      await store.close();
      await server.close();
    });

    it('rejects bad options before connecting', () => {
      expect(() => new DBStore({ table: 'oauthtoken; DROP TABLE x' })).toThrow(/Invalid table name/);
      expect(() => new DBStore({ port: 0 })).toThrow(TokenStoreError);
      expect(() => new DBStore({ connectionLimit: -1 })).toThrow(/connectionLimit/);
    });

    describe("killed sessions (a database of their own, to find the store's sessions)", () => {
      let database: string;
      let admin: mysql.Connection;
      const sessions = async () =>
        (
          await admin.query('SELECT ID AS id, INFO AS info FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [
            database,
          ])
        )[0] as { id: number; info: string | null }[];
      beforeAll(async () => {
        database = uniqueName('zt_db');
        admin = await mysqlAdmin();
        await admin.query(`CREATE DATABASE \`${database}\``);
      });
      afterAll(async () => {
        await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
        await admin.end();
      });

      it('killing every pooled connection: the next calls reconnect and succeed; close() ends the pool', async () => {
        const store = new DBStore({ ...target, database, table: 'killed' });
        await store.saveToken(sampleToken('alice'));
        await Promise.all([store.saveToken(sampleToken('bob')), store.findToken({ userName: 'x' }), store.getTokens()]);
        const before = await sessions();
        expect(before.length).toBeGreaterThan(0);
        for (const s of before) await admin.query(`KILL CONNECTION ${Number(s.id)}`);
        expect((await store.findToken({ userName: 'alice' }))?.id).toBe('1');
        expect((await store.saveToken(sampleToken('carol'))).id).toBe('3');
        expect((await store.getTokens()).map((t) => t.userName)).toEqual(['alice', 'bob', 'carol']);
        await store.close();
        await waitFor(async () => (await sessions()).length === 0, 'the pool to close its sessions');
        await expect(store.getTokens()).rejects.toMatchObject({ reason: 'CLOSED' });
      });

      it('a session killed in the middle of a save leaves every stored token as it was', async () => {
        const table = 'midsave';
        const store = new DBStore({ ...target, database, table });
        await store.saveToken(sampleToken('alice'));
        await store.saveToken(sampleToken('bob'));
        const rowsBefore = await mysqlRows(table, database);
        // Another session holds alice's row, so the save blocks inside its transaction.
        const holder = await mysqlAdmin(database);
        await holder.query('START TRANSACTION');
        await holder.query(`SELECT * FROM \`${table}\` WHERE user_name = 'alice' FOR UPDATE`);
        const [[holderRow]] = (await holder.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
        const blocked = async () => (await sessions()).find((s) => s.id !== holderRow.id && /FOR UPDATE/.test(s.info ?? ''));
        const saving = store.saveToken(sampleToken('alice', { accessToken: '1000.access.new', refreshToken: '1000.refresh.new' }));
        const first = await waitFor(blocked, 'the save to block on the row lock');
        await admin.query(`KILL CONNECTION ${Number(first.id)}`);
        // The store retries on a new session, which blocks again; meanwhile nothing has changed.
        const second = await waitFor(async () => {
          const s = await blocked();
          return s && s.id !== first.id ? s : null;
        }, 'the retried save to block');
        expect(second.id).not.toBe(first.id);
        expect(await mysqlRows(table, database)).toEqual(rowsBefore);
        await holder.query('ROLLBACK');
        await holder.end();
        expect(await saving).toMatchObject({ id: '1', accessToken: '1000.access.new' });
        expect((await store.getTokens()).map((t) => [t.id, t.userName, t.accessToken])).toEqual([
          ['1', 'alice', '1000.access.new'],
          ['2', 'bob', '1000.access.bob.eeeeffff00001111'],
        ]);
        await store.close();
      });

      it('a session killed in the middle of a save, twice more: the save fails cleanly and nothing changed', async () => {
        const table = 'midsave2';
        const store = new DBStore({ ...target, database, table });
        await store.saveToken(sampleToken('alice'));
        const rowsBefore = await mysqlRows(table, database);
        const holder = await mysqlAdmin(database);
        await holder.query('START TRANSACTION');
        await holder.query(`SELECT * FROM \`${table}\` WHERE user_name = 'alice' FOR UPDATE`);
        const [[holderRow]] = (await holder.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
        const saving = caughtStoreError(store.saveToken(sampleToken('alice', { accessToken: '1000.access.never' })));
        const killed = new Set<number>();
        let settled = false;
        void saving.finally(() => (settled = true));
        while (!settled) {
          const s = (await sessions()).find((x) => x.id !== holderRow.id && !killed.has(x.id) && /FOR UPDATE/.test(x.info ?? ''));
          if (s) {
            killed.add(s.id);
            await admin.query(`KILL CONNECTION ${Number(s.id)}`).catch(() => undefined);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        const error = await saving;
        expect(error.reason).toBe('WRITE_FAILED');
        expect(error.message).toContain(`${database}, table ${table}`);
        expect(killed.size).toBe(3);
        await holder.query('ROLLBACK');
        await holder.end();
        expect(await mysqlRows(table, database)).toEqual(rowsBefore);
        expect((await store.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.alice.eeeeffff00001111');
        await store.close();
      });
    });
  });
});
