/**
 * The SQL of every SQL store, written once. A dialect supplies placeholders and identifier
 * quoting; `buildTokenSql` returns the statement texts for Zoho's table. Every value is a bound
 * parameter; the table name is validated (identifier.ts) before it is quoted into a statement.
 */
import { COLUMN_NAMES, COLUMN_OF, type LookupField } from '../../token.js';
import { validateTableName } from './identifier.js';

export interface SqlDialect {
  name: 'sqlite' | 'mysql' | 'postgres';
  /** The n-th (1-based) parameter placeholder. */
  param(n: number): string;
  quote(identifier: string): string;
  /** Expression that is true when `id` holds a plain decimal number. */
  numericIdTest(idColumn: string): string;
  /** Expression casting a numeric id to an integer for ordering. */
  castId(idColumn: string): string;
  /** Column type of each lookup column and of the others. */
  lookupColumnType: string;
  textColumnType: string;
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  param: () => '?',
  quote: (id) => `"${id}"`,
  numericIdTest: (c) => `(${c} = '0' OR (${c} GLOB '[1-9]*' AND ${c} NOT GLOB '*[^0-9]*' AND length(${c}) <= 10))`,
  castId: (c) => `CAST(${c} AS INTEGER)`,
  lookupColumnType: 'varchar(255)',
  textColumnType: 'varchar(255)',
};

export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  param: () => '?',
  quote: (id) => `\`${id}\``,
  numericIdTest: (c) => `(${c} REGEXP '^(0|[1-9][0-9]{0,9})$')`,
  castId: (c) => `CAST(${c} AS UNSIGNED)`,
  lookupColumnType: 'varchar(255)',
  textColumnType: 'varchar(255)',
};

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  param: (n) => `$${n}`,
  quote: (id) => `"${id}"`,
  numericIdTest: (c) => `(${c} ~ '^(0|[1-9][0-9]{0,9})$')`,
  castId: (c) => `CAST(${c} AS bigint)`,
  lookupColumnType: 'varchar(255)',
  textColumnType: 'varchar(255)',
};

export interface TokenSql {
  table: string;
  columns: string;
  createTable: string;
  /** Index statements: [name, sql] (one per lookup column). */
  createIndexes: [string, string][];
  selectBy: Record<LookupField, string>;
  selectAll: string;
  insert: string;
  /** UPDATE ... SET every column but id ... WHERE id = ? (id is the last parameter). */
  update: string;
  deleteById: string;
  deleteAll: string;
  /**
   * The numeric value of a numeric id, NULL for any other id. Indexed (an expression index, or
   * on MySQL a generated column), so `SELECT MAX(...)` is one probe at the end of that index.
   */
  idNumber: string;
  /** The largest numeric id: one index probe where idNumber is indexed. */
  maxNumericId: string;
}

/**
 * `options.schema` qualifies the table (`"schema"."table"`) for databases with schemas; it is
 * validated like the table name.
 */
export function buildTokenSql(dialect: SqlDialect, tableName: string, options: { schema?: string } = {}): TokenSql {
  const qualifier = options.schema === undefined ? '' : `${dialect.quote(validateTableName(options.schema))}.`;
  const table = qualifier + dialect.quote(validateTableName(tableName));
  const q = (c: string) => dialect.quote(c);
  const columns = COLUMN_NAMES.map(q).join(', ');
  const id = q('id');
  const idNumber = `CASE WHEN ${dialect.numericIdTest(id)} THEN ${dialect.castId(id)} END`;
  // Every row with the value: a table written by other tools may hold duplicates, and the caller
  // keeps the lowest id (compareIds). An ORDER BY here would sort in a temp B-tree on every lookup.
  const selectBy = Object.fromEntries(
    (['id', 'userName', 'accessToken', 'grantToken', 'refreshToken'] as const).map((field) => [
      field,
      `SELECT ${columns} FROM ${table} WHERE ${q(COLUMN_OF[field])} = ${dialect.param(1)}`,
    ]),
  ) as Record<LookupField, string>;
  const others = COLUMN_NAMES.filter((c) => c !== 'id');
  const lookupColumns = ['user_name', 'refresh_token', 'access_token', 'grant_token'];
  const columnType = (c: string) =>
    c === 'id'
      ? 'varchar(10) NOT NULL'
      : c === 'expiry_time'
        ? 'varchar(20)'
        : lookupColumns.includes(c)
          ? dialect.lookupColumnType
          : dialect.textColumnType;
  return {
    table,
    columns,
    createTable: `CREATE TABLE IF NOT EXISTS ${table} (${COLUMN_NAMES.map((c) => `${q(c)} ${columnType(c)}`).join(', ')}, PRIMARY KEY (${id}))`,
    createIndexes: lookupColumns.map((c) => {
      const name = `${tableName}_${c}_idx`.slice(0, 63);
      return [name, `CREATE INDEX ${dialect.name === 'mysql' ? '' : 'IF NOT EXISTS '}${q(name)} ON ${table} (${q(c)})`];
    }),
    selectBy,
    selectAll: `SELECT ${columns} FROM ${table}`,
    insert: `INSERT INTO ${table} (${columns}) VALUES (${COLUMN_NAMES.map((_, i) => dialect.param(i + 1)).join(', ')})`,
    update: `UPDATE ${table} SET ${others.map((c, i) => `${q(c)} = ${dialect.param(i + 1)}`).join(', ')} WHERE ${id} = ${dialect.param(others.length + 1)}`,
    deleteById: `DELETE FROM ${table} WHERE ${id} = ${dialect.param(1)}`,
    deleteAll: `DELETE FROM ${table}`,
    idNumber,
    maxNumericId: `SELECT MAX(${idNumber}) AS max_id FROM ${table}`,
  };
}
