/** DBStore (MySQL/MariaDB): the shared SQL store tests (helpers/sql-engine-suite.ts) on this engine's description. */
import { expect } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import { DBStore } from '../../src/stores/mysql.js';
import { MYSQL_URL, serviceAvailable } from '../services.js';
import { dropMySqlTable, mysqlAdmin, mysqlRows, mysqlTarget } from './helpers/sql-admin.js';
import { describeSqlStore, type SqlAdmin, type SqlSession, sqlAdmins, ZOHO_COLUMNS, zohoCreateTable } from './helpers/sql-engine-suite.js';

const target = mysqlTarget();
const quote = (identifier: string) => `\`${identifier}\``;

/** The columns `SELECT *`, column-less INSERTs and the official SDK see: not the store's invisible one. */
const columnsOf = (admin: SqlAdmin, table: string) =>
  admin.query<{ name: string; type: string; coll: string }>(
    "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA NOT LIKE '%INVISIBLE%' ORDER BY ORDINAL_POSITION",
    [table],
  );
/** The invisible generated column holding each numeric id's number, indexed, that serves the next id. */
const expectIdNumberColumn = async (admin: SqlAdmin, table: string) => {
  expect(
    await admin.query(
      'SELECT COLUMN_NAME AS name, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA LIKE ?',
      [table, '%INVISIBLE%'],
    ),
  ).toEqual([{ name: 'ztoken_id_num', extra: 'VIRTUAL GENERATED, INVISIBLE' }]);
  expect(await indexedColumns(admin, table)).toContain('ztoken_id_num');
};
const indexedColumns = async (admin: SqlAdmin, table: string) =>
  (
    await admin.query<{ name: string }>(
      'SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1',
      [table],
    )
  ).map((r) => r.name);

describeSqlStore({
  name: 'DBStore (MySQL/MariaDB)',
  storeName: 'DBStore',
  available: await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL'),
  target,
  admin: sqlAdmins(mysqlAdmin, async (connection, sql, params) => (await connection.query(sql, params))[0]),
  open: (options = {}) => new DBStore({ ...target, ...options }),
  openDown: (port, password) => new DBStore({ ...target, host: '127.0.0.1', port, password }),
  invalidOptions: [
    [() => new DBStore({ port: 0 }), TokenStoreError],
    [() => new DBStore({ connectionLimit: -1 }), /connectionLimit/],
  ],
  rows: mysqlRows,
  dropTable: (table) => dropMySqlTable(table),
  quote,
  placeholders: (count) => Array.from({ length: count }, () => '?').join(', '),
  /** Zoho's own CREATE TABLE, as the official SDK's users run it: server-default collation. */
  zohoTable: (table) => zohoCreateTable(quote(table), ' DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci'),
  databaseQuery: 'SHOW DATABASES LIKE ?',
  dropDatabase: (database) => `DROP DATABASE IF EXISTS ${quote(database)}`,
  sessionIdQuery: 'SELECT CONNECTION_ID() AS id',
  sessions: async (admin, database) =>
    (
      await admin.query<{ id: number; info: string | null }>(
        'SELECT ID AS id, INFO AS info FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [database],
      )
    ).map((s): SqlSession => ({ id: Number(s.id), query: s.info ?? '' })),
  kill: (admin, session) => admin.query(`KILL CONNECTION ${Number(session)}`),
  // MySQL answers "Duplicate entry '<token>' for key ...".
  duplicateKeyText: 'Duplicate entry',
  columns: columnsOf,
  createdTable: {
    checks: "Zoho's columns and types, exact (binary) comparison, an index per lookup column, the invisible id-number column",
    expect: async (admin, table) => {
      const columns = await columnsOf(admin, table);
      expect(columns.map((c) => [c.name, c.type])).toEqual(ZOHO_COLUMNS.map(([name, length]) => [name, `varchar(${length})`]));
      expect(new Set(columns.map((c) => c.coll))).toEqual(new Set(['utf8mb4_bin']));
      expect(await indexedColumns(admin, table)).toEqual(
        expect.arrayContaining(['id', 'user_name', 'refresh_token', 'access_token', 'grant_token']),
      );
      await expectIdNumberColumn(admin, table);
    },
  },
  expectAddedIndexes: async (admin, table) => {
    expect(await indexedColumns(admin, table)).toEqual(
      expect.arrayContaining(['user_name', 'refresh_token', 'access_token', 'grant_token']),
    );
    await expectIdNumberColumn(admin, table);
  },
});
