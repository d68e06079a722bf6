/** PostgresStore: the shared SQL store tests (helpers/sql-engine-suite.ts) on this engine's description, and its schemas and connection strings. */
import { expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { sampleToken } from '../../src/testing/index.js';
import { caughtStoreError } from '../helpers/errors.js';
import { POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropPostgresTable, postgresAdmin, postgresRows, postgresTarget } from './helpers/sql-admin.js';
import { describeSqlStore, type SqlAdmin, type SqlSession, sqlAdmins, ZOHO_COLUMNS, zohoCreateTable } from './helpers/sql-engine-suite.js';

const target = postgresTarget();
const quote = (identifier: string) => `"${identifier}"`;

const columnsOf = (admin: SqlAdmin, table: string) =>
  admin.query<{ column_name: string; data_type: string; len: number }>(
    'SELECT column_name, data_type, character_maximum_length AS len FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
    [table],
  );
const indexesOf = (admin: SqlAdmin, table: string) =>
  admin.query<{ indexname: string; indexdef: string }>('SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1', [table]);

describeSqlStore(
  {
    name: 'PostgresStore',
    storeName: 'PostgresStore',
    available: await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL'),
    target,
    admin: sqlAdmins(postgresAdmin, async (client, sql, params) => (await client.query(sql, params)).rows),
    open: (options = {}) => new PostgresStore({ ...target, ...options }),
    openDown: (port, password) => new PostgresStore({ connectionString: `postgres://postgres:${password}@127.0.0.1:${port}/zohooauth` }),
    invalidOptions: [
      [() => new PostgresStore({ port: 70_000 }), TokenStoreError],
      [() => new PostgresStore({ max: 0 }), /max/],
    ],
    rows: postgresRows,
    dropTable: (table) => dropPostgresTable(table),
    quote,
    placeholders: (count) => Array.from({ length: count }, (_, i) => `$${i + 1}`).join(', '),
    /** Zoho's CREATE TABLE, as someone would run it on PostgreSQL. */
    zohoTable: (table) => zohoCreateTable(quote(table)),
    databaseQuery: 'SELECT datname FROM pg_database WHERE datname = $1',
    dropDatabase: (database) => `DROP DATABASE IF EXISTS ${quote(database)} WITH (FORCE)`,
    sessionIdQuery: 'SELECT pg_backend_pid() AS id',
    sessions: async (admin, database) =>
      (
        await admin.query<{ pid: number; query: string; wait_event_type: string | null }>(
          'SELECT pid, query, wait_event_type FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [database],
        )
      ).map((s): SqlSession => ({ id: Number(s.pid), query: s.query, waiting: s.wait_event_type === 'Lock' })),
    kill: (admin, session) => admin.query('SELECT pg_terminate_backend($1)', [session]),
    // PostgreSQL answers "duplicate key value violates unique constraint" (its detail names the value).
    duplicateKeyText: 'duplicate key value',
    columns: columnsOf,
    createdTable: {
      checks: "Zoho's columns and lengths, an index per lookup column and one on the numeric id",
      expect: async (admin, table) => {
        expect((await columnsOf(admin, table)).map((c) => [c.column_name, c.len])).toEqual(ZOHO_COLUMNS);
        const defs = (await indexesOf(admin, table)).map((i) => i.indexdef).join('\n');
        for (const column of ['user_name', 'refresh_token', 'access_token', 'grant_token']) expect(defs).toContain(`(${column})`);
        expect(defs).toMatch(/CASE\s+WHEN[\s\S]*\(id\)::bigint/);
      },
    },
    expectAddedIndexes: async (admin, table) => expect((await indexesOf(admin, table)).length).toBe(6),
  },
  {
    schema: (ctx) => {
      it('puts the table in the schema it is given, and names a missing schema', async () => {
        const schema = uniqueName('zs');
        await ctx.admin.query(`CREATE SCHEMA ${quote(schema)}`);
        try {
          const store = new PostgresStore({ ...target, schema, table: 'oauthtoken' });
          await store.saveToken(sampleToken('alice'));
          expect(await ctx.admin.query(`SELECT user_name FROM ${quote(schema)}.oauthtoken`)).toEqual([{ user_name: 'alice' }]);
          await store.close();
          const missing = new PostgresStore({ ...target, schema: `${schema}_missing` });
          const error = await caughtStoreError(missing.getTokens());
          expect(error.reason).toBe('UNAVAILABLE');
          expect(error.message).toContain(`${schema}_missing`);
          await missing.close();
        } finally {
          await ctx.admin.query(`DROP SCHEMA ${quote(schema)} CASCADE`);
        }
        expect(() => new PostgresStore({ schema: 'x; DROP' })).toThrow(/schema/);
      });
    },
    connections: () => {
      it('accepts a connection string', async () => {
        const table = uniqueName('zt');
        const store = new PostgresStore({ connectionString: POSTGRES_URL, table });
        await store.saveToken(sampleToken('alice'));
        expect((await store.findToken({ userName: 'alice' }))?.id).toBe('1');
        await store.close();
        await dropPostgresTable(table);
      });
    },
  },
);
