import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';
import { POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropPostgresTable, postgresAdmin, postgresRows, postgresTarget, waitFor } from './helpers/sql-admin.js';
import { closedPort, silentServer } from './helpers/sql-net.js';
import { caughtStoreError, errorChainText } from '../helpers/errors.js';

const available = await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL');
const target = postgresTarget();

/** Zoho's CREATE TABLE (ZOHO.md), as someone would run it on PostgreSQL. */
const ZOHO_TABLE = (table: string) =>
  `CREATE TABLE "${table}" (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id))`;

describe.skipIf(!available)('PostgresStore', () => {
  runTokenStoreConformance({
    name: 'PostgresStore',
    create: () => new PostgresStore({ ...target, table: uniqueName('zt') }),
    cleanup: async (store) => {
      await store.close();
      await dropPostgresTable((store as PostgresStore).table);
    },
    raw: async (store) => JSON.stringify(await postgresRows((store as PostgresStore).table)),
    propertyRuns: 25,
  });

  describe('schema', () => {
    let admin: pg.Client;
    const tables: string[] = [];
    const fresh = () => {
      const table = uniqueName('zt');
      tables.push(table);
      return table;
    };
    beforeAll(async () => {
      admin = await postgresAdmin();
    });
    afterAll(async () => {
      for (const table of tables) await admin.query(`DROP TABLE IF EXISTS "${table}"`);
      await admin.end();
    });
    const columnsOf = async (table: string) =>
      (
        await admin.query(
          'SELECT column_name, data_type, character_maximum_length AS len FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
          [table],
        )
      ).rows;
    const indexesOf = async (table: string) =>
      (await admin.query('SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1', [table])).rows as {
        indexname: string;
        indexdef: string;
      }[];

    it("creates Zoho's table with an index per lookup column and one on the numeric id", async () => {
      const table = fresh();
      const store = new PostgresStore({ ...target, table });
      await store.saveToken(sampleToken('alice', { expiryTime: 1767225600001 }));
      await store.close();
      expect((await columnsOf(table)).map((c) => [c.column_name, c.len])).toEqual([
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
      ]);
      const defs = (await indexesOf(table)).map((i) => i.indexdef).join('\n');
      for (const column of ['user_name', 'refresh_token', 'access_token', 'grant_token']) expect(defs).toContain(`(${column})`);
      expect(defs).toMatch(/CASE\s+WHEN[\s\S]*\(id\)::bigint/);
      expect((await admin.query(`SELECT id, user_name, expiry_time FROM "${table}"`)).rows).toEqual([
        { id: '1', user_name: 'alice', expiry_time: '1767225600001' },
      ]);
    });

    it("uses a table made with Zoho's SQL as it is: no column changed, indexes added, ids numeric", async () => {
      const table = fresh();
      await admin.query(ZOHO_TABLE(table));
      await admin.query(
        `INSERT INTO "${table}" VALUES ('9', 'alice', 'cid', 'sec', '1000.r.alice', '1000.a.alice', NULL, '1767225600000', NULL, 'https://www.zohoapis.com')`,
      );
      const before = await columnsOf(table);
      const store = new PostgresStore({ ...target, table });
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
      expect(await store.findToken({ userName: 'ALICE' })).toBeNull();
      expect((await store.saveToken(sampleToken('bob'))).id).toBe('10');
      await store.close();
      expect(await columnsOf(table)).toEqual(before);
      expect((await indexesOf(table)).length).toBe(6);
    });

    it("refuses a table without Zoho's columns, naming the table and what is missing", async () => {
      const table = fresh();
      await admin.query(`CREATE TABLE "${table}" (id varchar(10) PRIMARY KEY, user_name varchar(255))`);
      const store = new PostgresStore({ ...target, table });
      const error = await caughtStoreError(store.getTokens());
      expect(error.reason).toBe('CORRUPT');
      expect(error.message).toContain(table);
      expect(error.message).toContain('refresh_token');
      await store.close();
    });

    it('refuses a value longer than its column, naming the field, and changes nothing', async () => {
      const table = fresh();
      const store = new PostgresStore({ ...target, table });
      const saved = await store.saveToken(sampleToken('alice'));
      const long = `1000.${'r'.repeat(300)}`;
      const error = await caughtStoreError(store.saveToken(sampleToken('alice', { refreshToken: long })));
      expect(error).toMatchObject({ reason: 'INVALID_TOKEN', field: 'refreshToken' });
      expect(error.message).not.toContain(long);
      const emoji = '🚀'.repeat(255);
      await store.saveToken(sampleToken('bob', { apiDomain: emoji }));
      expect((await store.findToken({ userName: 'bob' }))?.apiDomain).toBe(emoji);
      expect(await store.findToken({ userName: 'alice' })).toEqual(saved);
      await store.close();
    });

    it('puts the table in the schema it is given, and names a missing schema', async () => {
      const schema = uniqueName('zs');
      await admin.query(`CREATE SCHEMA "${schema}"`);
      try {
        const store = new PostgresStore({ ...target, schema, table: 'oauthtoken' });
        await store.saveToken(sampleToken('alice'));
        expect((await admin.query(`SELECT user_name FROM "${schema}".oauthtoken`)).rows).toEqual([{ user_name: 'alice' }]);
        await store.close();
        const missing = new PostgresStore({ ...target, schema: `${schema}_missing` });
        const error = await caughtStoreError(missing.getTokens());
        expect(error.reason).toBe('UNAVAILABLE');
        expect(error.message).toContain(`${schema}_missing`);
        await missing.close();
      } finally {
        await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      }
      expect(() => new PostgresStore({ schema: 'x; DROP' })).toThrow(/schema/);
    });

    it('a unique-violation from the server carries no secret in message or cause', async () => {
      const table = fresh();
      await admin.query(ZOHO_TABLE(table));
      await admin.query(`CREATE UNIQUE INDEX "${table}_uniq" ON "${table}" (refresh_token)`);
      const store = new PostgresStore({ ...target, table });
      const secret = '1000.refresh.shared.0123456789abcdef';
      await store.saveToken(sampleToken('alice', { refreshToken: secret }));
      const error = await caughtStoreError(store.saveToken(sampleToken('bob', { refreshToken: secret })));
      expect(error.reason).toBe('WRITE_FAILED');
      expect(error.message).toContain(`${target.host}:${target.port}/${target.database}`);
      expect(error.message).toContain(table);
      expect(errorChainText(error)).not.toContain(secret);
      expect(await store.getTokens()).toHaveLength(1);
      await store.close();
    });
  });

  describe('connections', () => {
    it('a database that does not exist: an error naming host:port/database', async () => {
      const database = uniqueName('zt_missing');
      const store = new PostgresStore({ ...target, database });
      const error = await caughtStoreError(store.getTokens());
      expect(error.reason).toBe('UNAVAILABLE');
      expect(error.message).toContain(`${target.host}:${target.port}/${database}`);
      expect(error.message).toContain('does not exist');
      await store.close();
    });

    it('a server that is down: the constructor does not throw, the first call names host and port', async () => {
      const port = await closedPort();
      const store = new PostgresStore({ connectionString: `postgres://postgres:hunter2-secret-pw@127.0.0.1:${port}/zohooauth` });
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
      const store = new PostgresStore({ ...target, host: '127.0.0.1', port: server.port, connectTimeoutMs: 300 });
      const started = Date.now();
      const error = await caughtStoreError(store.getTokens());
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(error.reason).toBe('UNAVAILABLE');
      expect(error.message).toContain(`127.0.0.1:${server.port}`);
      await store.close();
      await server.close();
    });

    it('accepts a connection string', async () => {
      const table = uniqueName('zt');
      const store = new PostgresStore({ connectionString: POSTGRES_URL, table });
      await store.saveToken(sampleToken('alice'));
      expect((await store.findToken({ userName: 'alice' }))?.id).toBe('1');
      await store.close();
      await dropPostgresTable(table);
    });

    it('rejects bad options before connecting', () => {
      expect(() => new PostgresStore({ table: 'oauthtoken; DROP TABLE x' })).toThrow(/Invalid table name/);
      expect(() => new PostgresStore({ port: 70_000 })).toThrow(TokenStoreError);
      expect(() => new PostgresStore({ max: 0 })).toThrow(/max/);
    });

    describe("killed sessions (a database of their own, to find the store's sessions)", () => {
      let database: string;
      let admin: pg.Client;
      const sessions = async () =>
        (
          await admin.query('SELECT pid, query, wait_event_type FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
            database,
          ])
        ).rows as {
          pid: number;
          query: string;
          wait_event_type: string | null;
        }[];
      beforeAll(async () => {
        database = uniqueName('zt_db');
        admin = await postgresAdmin();
        await admin.query(`CREATE DATABASE "${database}"`);
      });
      afterAll(async () => {
        await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
        await admin.end();
      });

      it('terminating every pooled session: the next calls reconnect and succeed; close() ends the pool', async () => {
        const store = new PostgresStore({ ...target, database, table: 'killed' });
        await store.saveToken(sampleToken('alice'));
        await Promise.all([store.saveToken(sampleToken('bob')), store.findToken({ userName: 'x' }), store.getTokens()]);
        const before = await sessions();
        expect(before.length).toBeGreaterThan(0);
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
          database,
        ]);
        expect((await store.findToken({ userName: 'alice' }))?.id).toBe('1');
        expect((await store.saveToken(sampleToken('carol'))).id).toBe('3');
        expect((await store.getTokens()).map((t) => t.userName)).toEqual(['alice', 'bob', 'carol']);
        await store.close();
        await waitFor(async () => (await sessions()).length === 0, 'the pool to close its sessions');
        await expect(store.getTokens()).rejects.toMatchObject({ reason: 'CLOSED' });
      });

      it('a session terminated in the middle of a save leaves every stored token as it was', async () => {
        const table = 'midsave';
        const store = new PostgresStore({ ...target, database, table });
        await store.saveToken(sampleToken('alice'));
        await store.saveToken(sampleToken('bob'));
        const rowsBefore = await postgresRows(table, database);
        const holder = await postgresAdmin(database);
        await holder.query('BEGIN');
        await holder.query(`SELECT * FROM "${table}" WHERE user_name = 'alice' FOR UPDATE`);
        const blocked = async () => (await sessions()).find((s) => s.wait_event_type === 'Lock' && /FOR UPDATE/.test(s.query));
        const saving = store.saveToken(sampleToken('alice', { accessToken: '1000.access.new', refreshToken: '1000.refresh.new' }));
        const first = await waitFor(blocked, 'the save to block on the row lock');
        await admin.query('SELECT pg_terminate_backend($1)', [first.pid]);
        const second = await waitFor(async () => {
          const s = await blocked();
          return s && s.pid !== first.pid ? s : null;
        }, 'the retried save to block');
        expect(second.pid).not.toBe(first.pid);
        expect(await postgresRows(table, database)).toEqual(rowsBefore);
        await holder.query('ROLLBACK');
        await holder.end();
        expect(await saving).toMatchObject({ id: '1', accessToken: '1000.access.new' });
        expect((await store.getTokens()).map((t) => [t.id, t.userName, t.accessToken])).toEqual([
          ['1', 'alice', '1000.access.new'],
          ['2', 'bob', '1000.access.bob.eeeeffff00001111'],
        ]);
        await store.close();
      });

      it('a session terminated in the middle of every attempt: the save fails cleanly and nothing changed', async () => {
        const table = 'midsave2';
        const store = new PostgresStore({ ...target, database, table });
        await store.saveToken(sampleToken('alice'));
        const rowsBefore = await postgresRows(table, database);
        const holder = await postgresAdmin(database);
        await holder.query('BEGIN');
        await holder.query(`SELECT * FROM "${table}" WHERE user_name = 'alice' FOR UPDATE`);
        const saving = caughtStoreError(store.saveToken(sampleToken('alice', { accessToken: '1000.access.never' })));
        const killed = new Set<number>();
        let settled = false;
        void saving.finally(() => (settled = true));
        while (!settled) {
          const s = (await sessions()).find((x) => !killed.has(x.pid) && x.wait_event_type === 'Lock' && /FOR UPDATE/.test(x.query));
          if (s) {
            killed.add(s.pid);
            await admin.query('SELECT pg_terminate_backend($1)', [s.pid]);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        const error = await saving;
        expect(error.reason).toBe('WRITE_FAILED');
        expect(error.message).toContain(`${database}, table ${table}`);
        expect(killed.size).toBe(3);
        await holder.query('ROLLBACK');
        await holder.end();
        expect(await postgresRows(table, database)).toEqual(rowsBefore);
        expect((await store.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.alice.eeeeffff00001111');
        await store.close();
      });
    });
  });
});
