/**
 * The SQL of every SQL store, written once. A dialect supplies placeholders and identifier
 * quoting; `buildTokenSql` returns the statement texts for a token table of one layout
 * (table-layouts.ts). Every value is a bound
 * parameter; the table name is validated (identifier.ts) before it is quoted into a statement.
 */
import { COLUMN_NAMES, COLUMN_OF, type ColumnName, type LookupField, MAX_ID_LENGTH } from '../../token.js';
import { validateTableName } from './identifier.js';
import { LOOKUP_COLUMNS, TABLE_LAYOUTS, type TableLayout } from './table-layouts.js';

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
  /** The layout these statements are for, and whether its id column holds whole numbers. */
  layout: TableLayout;
  integerId: boolean;
  /**
   * The select list: Zoho's ten canonical columns in order, each the layout's column aliased to
   * the canonical name, or NULL AS it where the layout has no such column (the field is absent).
   */
  columns: string;
  createTable: string;
  /** Index statements: [name, sql, table column] (one per lookup column). */
  createIndexes: [string, string, string][];
  selectBy: Record<LookupField, string>;
  selectAll: string;
  /** INSERT of the layout's columns; its parameters are `row` at insertFields. */
  insert: string;
  insertFields: number[];
  /** UPDATE ... SET every layout column but id ... WHERE id = ?; parameters: `row` at updateFields, then id. */
  update: string;
  updateFields: number[];
  deleteById: string;
  deleteAll: string;
  /**
   * The numeric value of a numeric id, NULL for any other id. Indexed (an expression index, or
   * on MySQL a generated column), so `SELECT MAX(...)` is one probe at the end of that index.
   * An integer id column is its own number (its primary key is the index).
   */
  idNumber: string;
  /** The largest numeric id: one index probe where idNumber is indexed. */
  maxNumericId: string;
}

export interface TokenSqlOptions {
  /** Qualifies the table (`"schema"."table"`) for databases with schemas; validated like the table name. */
  schema?: string;
  /** The table's layout (default: today's SDKs, zoho-v6). */
  layout?: TableLayout;
  /** The id column holds whole numbers (default: as the layout creates it). */
  integerId?: boolean;
}

export function buildTokenSql(dialect: SqlDialect, tableName: string, options: TokenSqlOptions = {}): TokenSql {
  const layout = options.layout ?? TABLE_LAYOUTS['zoho-v6'];
  const integerId = options.integerId ?? layout.idColumn === 'integer';
  const qualifier = options.schema === undefined ? '' : `${dialect.quote(validateTableName(options.schema))}.`;
  const table = qualifier + dialect.quote(validateTableName(tableName));
  const q = (c: string) => dialect.quote(c);
  const own = (c: ColumnName) => layout.columns[c];
  const columns = COLUMN_NAMES.map((c) => {
    const column = own(c);
    return column === undefined ? `NULL AS ${q(c)}` : column === c ? q(c) : `${q(column)} AS ${q(c)}`;
  }).join(', ');
  const id = q('id');
  const idNumber = integerId ? id : `CASE WHEN ${dialect.numericIdTest(id)} THEN ${dialect.castId(id)} END`;
  // Every row with the value: a table written by other tools may hold duplicates, and the caller
  // keeps the lowest id (compareIds). An ORDER BY here would sort in a temp B-tree on every lookup.
  const selectBy = Object.fromEntries(
    (['id', 'userName', 'accessToken', 'grantToken', 'refreshToken'] as const).map((field) => [
      field,
      `SELECT ${columns} FROM ${table} WHERE ${q(own(COLUMN_OF[field]) as string)} = ${dialect.param(1)}`,
    ]),
  ) as Record<LookupField, string>;
  const present = COLUMN_NAMES.map((c, i) => [c, i] as const).filter(([c]) => own(c) !== undefined);
  const insertFields = present.map(([, i]) => i);
  const others = present.filter(([c]) => c !== 'id');
  const updateFields = others.map(([, i]) => i);
  const idType = integerId
    ? `${dialect.name === 'mysql' ? 'int' : 'integer'} NOT NULL${dialect.name === 'mysql' ? ' AUTO_INCREMENT' : ''}`
    : `varchar(${layout.idColumn === 'integer' ? MAX_ID_LENGTH : layout.idColumn}) NOT NULL`;
  const columnType = (c: string) =>
    c === 'id'
      ? idType
      : c === 'expiry_time'
        ? 'varchar(20)'
        : LOOKUP_COLUMNS.some((l) => own(l) === c)
          ? dialect.lookupColumnType
          : dialect.textColumnType;
  return {
    table,
    layout,
    integerId,
    columns,
    createTable: `CREATE TABLE IF NOT EXISTS ${table} (${layout.createOrder.map((c) => `${q(c)} ${columnType(c)}`).join(', ')}, PRIMARY KEY (${id}))`,
    createIndexes: LOOKUP_COLUMNS.map((c) => {
      const column = own(c) as string;
      const name = layout.indexName(tableName, column);
      return [name, `CREATE INDEX ${dialect.name === 'mysql' ? '' : 'IF NOT EXISTS '}${q(name)} ON ${table} (${q(column)})`, column];
    }),
    selectBy,
    selectAll: `SELECT ${columns} FROM ${table}`,
    insert: `INSERT INTO ${table} (${present.map(([c]) => q(own(c) as string)).join(', ')}) VALUES (${present.map((_, i) => dialect.param(i + 1)).join(', ')})`,
    insertFields,
    update: `UPDATE ${table} SET ${others.map(([c], i) => `${q(own(c) as string)} = ${dialect.param(i + 1)}`).join(', ')} WHERE ${id} = ${dialect.param(others.length + 1)}`,
    updateFields,
    deleteById: `DELETE FROM ${table} WHERE ${id} = ${dialect.param(1)}`,
    deleteAll: `DELETE FROM ${table}`,
    idNumber,
    maxNumericId: `SELECT MAX(${idNumber}) AS max_id FROM ${table}`,
  };
}

/** The insert's parameters: the row's cells the layout has columns for. */
export function insertParams(sql: TokenSql, row: readonly (string | null)[]): (string | null)[] {
  return sql.insertFields.map((i) => row[i] ?? null);
}

/** The update's parameters: the layout's columns but id, then the id. */
export function updateParams(sql: TokenSql, row: readonly (string | null)[], id: string): (string | null)[] {
  return [...sql.updateFields.map((i) => row[i] ?? null), id];
}
