/**
 * Token tables as other programs make them, for the layout tests: the DDL of the Python SDK 8.0
 * MultiDBStore (what SQLAlchemy emits for its model: VARCHAR(36) uuid id, ix_<table>_<column>
 * indexes on the four lookup columns) and of the Node SDKs' READMEs, and one raw connection per
 * engine that runs them (plus the Python SDK's own queries) with no help from our stores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { mysqlAdmin, postgresAdmin } from './sql-admin.js';

export type Row = Record<string, unknown>;

/** A raw connection: `?` placeholders on every engine (rewritten to $n for PostgreSQL). */
export interface RawSql {
  engine: 'sqlite' | 'mysql' | 'postgres';
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  end(): Promise<void>;
}

export async function rawMySql(): Promise<RawSql> {
  const c = await mysqlAdmin();
  return {
    engine: 'mysql',
    query: async (sql, params = []) => {
      const [rows] = await c.query(sql, params);
      return Array.isArray(rows) ? (rows as Row[]) : [];
    },
    end: () => c.end(),
  };
}

export async function rawPostgres(): Promise<RawSql> {
  const c = await postgresAdmin();
  return {
    engine: 'postgres',
    query: async (sql, params = []) => {
      let n = 0;
      return (
        await c.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      ).rows as Row[];
    },
    end: () => c.end(),
  };
}

/** A SQLite file in a fresh directory; `path` is where the stores open it. */
export function rawSqlite(): RawSql & { path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-layouts-'));
  const path = join(dir, 'tokens.db');
  const db = new Database(path);
  return {
    engine: 'sqlite',
    path,
    query: async (sql, params = []) => {
      const statement = db.prepare(sql);
      if (statement.reader) return statement.all(...params) as Row[];
      statement.run(...params);
      return [];
    },
    end: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The Python SDK 8.0 MultiDBStore's columns, in its model's order. */
export const PYTHON_COLUMNS = [
  'id',
  'user_name',
  'client_id',
  'client_secret',
  'refresh_token',
  'access_token',
  'grant_token',
  'redirect_url',
  'api_domain',
  'expiry_time',
] as const;

/** SQLAlchemy's CREATE TABLE and CREATE INDEX for the MultiDBStore model, the same on all three engines. */
export function pythonDdl(table: string): string[] {
  const type = (c: string) => (c === 'id' ? 'VARCHAR(36) NOT NULL' : c === 'expiry_time' ? 'VARCHAR(20)' : 'VARCHAR(255)');
  return [
    `CREATE TABLE ${table} (\n\t${PYTHON_COLUMNS.map((c) => `${c} ${type(c)}`).join(', \n\t')}, \n\tPRIMARY KEY (id)\n)`,
    ...['user_name', 'grant_token', 'refresh_token', 'access_token'].map((c) => `CREATE INDEX ix_${table}_${c} ON ${table} (${c})`),
  ];
}

/** The v2 SDKs' README CREATE TABLE (typescript-sdk 2.0/2.1, nodejs-sdk 2.0). */
export function zohoV2Ddl(table: string): string {
  return `CREATE TABLE ${table} (id varchar(255) NOT NULL, user_mail varchar(255) NOT NULL, client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), primary key (id))`;
}

/** zcrmsdk 1.x README CREATE TABLE (MySQL). */
export function zcrmsdkDdl(table: string): string {
  return `create table ${table}(id int(11) not null auto_increment, user_mail varchar(255) not null, client_id varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), primary key (id))`;
}

/** The first column of every index on `table`, per engine (the primary key included). */
export async function indexedColumns(raw: RawSql, table: string): Promise<string[]> {
  const rows =
    raw.engine === 'sqlite'
      ? await raw.query(
          'SELECT il.name AS index_name, ii.name AS col FROM pragma_index_list(?) il JOIN pragma_index_info(il.name) ii WHERE ii.seqno = 0',
          [table],
        )
      : raw.engine === 'mysql'
        ? await raw.query(
            'SELECT INDEX_NAME AS index_name, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1',
            [table],
          )
        : await raw.query(
            `SELECT ic.relname AS index_name, a.attname AS col FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = ?::regclass`,
            [table],
          );
  return rows.map((r) => `${r.index_name}:${r.col ?? '(expression)'}`).sort();
}

/** The table's columns in order, as every program sees them (MySQL's invisible ones left out). */
export async function columnNames(raw: RawSql, table: string): Promise<string[]> {
  const rows =
    raw.engine === 'sqlite'
      ? await raw.query('SELECT name FROM pragma_table_info(?)', [table])
      : raw.engine === 'mysql'
        ? await raw.query(
            "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA NOT LIKE '%INVISIBLE%' ORDER BY ORDINAL_POSITION",
            [table],
          )
        : await raw.query(
            'SELECT attname AS name FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
            [table],
          );
  return rows.map((r) => String(r.name));
}
