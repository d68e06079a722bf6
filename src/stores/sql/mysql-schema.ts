/**
 * A token table on MySQL/MariaDB: created when missing (the layout option's columns, Zoho's
 * types, a binary collation so lookups are exact); an existing table's layout is detected from
 * its columns (table-layouts.ts) and its columns are never altered. When the user may, an index
 * is added on each lookup column that has none, and for text ids that are counted up (zoho-v6,
 * zoho-v2) an invisible generated column holding the id's number, indexed, so the next id is one
 * index probe (see addIdNumberColumn). Describes the table for the store: its statements, column
 * widths (to refuse values that do not fit), NOT NULL columns, for case-insensitive collations an
 * exact predicate, and how to find the largest numeric id.
 */
import { COLUMN_NAMES } from '../../token.js';
import type { TokenSql } from './dialect.js';
import { missingTable } from './missing-table.js';
import type { SqlRunner, TableInfo, TableRequest } from './sql-driver.js';
import { type ColumnFacts, columnWidths, detectLayout, requiredColumns, TABLE_LAYOUTS } from './table-layouts.js';

/** Duplicate key name (another process added it first); no privilege to add an index. */
const IGNORED_INDEX_ERRNOS = new Set([1061, 1142, 1044, 1227, 1370]);
const KEY_TOO_LONG = 1071;
/** The generated column with each numeric id's number (NULL for other ids), and its index. */
export const ID_NUMBER_COLUMN = 'ztoken_id_num';
/** Duplicate column or key name: another process added it first. */
const ALREADY_ADDED_ERRNOS = new Set([1060, 1061]);
/** No ALTER privilege, or a server that refuses the column (old MySQL: no INVISIBLE). */
const CANNOT_ADD_ERRNOS = new Set([1142, 1044, 1227, 1370, 1064, 3105, 1901, 1904]);
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

interface ColumnInfo {
  name: string;
  max_len: string | number | null;
  coll: string | null;
  data_type: string;
  nullable: string;
  dflt: string | null;
  extra: string | null;
}

export async function prepareMySqlTable(db: SqlRunner & { where: string }, request: TableRequest, table: string): Promise<TableInfo> {
  let columns = await describeColumns(db, table);
  if (columns.length === 0) {
    if (!request.create) throw missingTable(db.where);
    const layout = request.layout ?? TABLE_LAYOUTS['zoho-v6'];
    const create = request.sqlFor(layout, layout.idColumn === 'integer').createTable;
    await db.query(`${create} ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    columns = await describeColumns(db, table);
  }
  const facts: ColumnFacts[] = columns
    .filter((c) => c.name.toLowerCase() !== ID_NUMBER_COLUMN)
    .map((c) => ({
      name: c.name,
      ...(c.max_len === null ? {} : { maxLength: Number(c.max_len) }),
      integer: INTEGER_TYPES.has(String(c.data_type).toLowerCase()),
      required: c.nullable === 'NO' && c.dflt === null && !/auto_increment|generated/i.test(c.extra ?? ''),
    }));
  const layout = detectLayout(facts, request.layout, db.where);
  const integerId = facts.find((c) => c.name.toLowerCase() === 'id')?.integer === true;
  const sql = request.sqlFor(layout, integerId);
  await addLookupIndexes(db, sql, table);
  const idNumberReady = !integerId && layout.idNumberIndex && (await addIdNumberColumn(db, sql, table));
  const info: TableInfo = {
    sql,
    required: requiredColumns(layout, facts),
    maxLength: columnWidths(layout, facts),
    exactMatch: {},
    ...(integerId
      ? { maxNumericId: sql.maxNumericId }
      : idNumberReady
        ? { maxNumericId: `SELECT MAX(\`${ID_NUMBER_COLUMN}\`) AS max_id FROM ${sql.table}` }
        : {}),
  };
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  for (const canonical of COLUMN_NAMES) {
    const column = layout.columns[canonical];
    const c = column === undefined ? undefined : byName.get(column);
    // A case- or accent-insensitive column would match 'Alice' to 'alice': compare bytes too.
    if (c?.coll && !/(_bin|^binary)$/.test(c.coll)) info.exactMatch[canonical] = `\`${column}\` = ? COLLATE utf8mb4_bin`;
  }
  return info;
}

function describeColumns(db: SqlRunner, table: string): Promise<ColumnInfo[]> {
  return db.query(
    `SELECT COLUMN_NAME AS name, CHARACTER_MAXIMUM_LENGTH AS max_len, COLLATION_NAME AS coll, DATA_TYPE AS data_type,
            IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [table],
  ) as Promise<unknown[]> as Promise<ColumnInfo[]>;
}

async function addLookupIndexes(db: SqlRunner, sql: TokenSql, table: string): Promise<void> {
  const rows = await db.query(
    'SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1',
    [table],
  );
  const indexed = new Set(rows.map((r) => String(r.name).toLowerCase()));
  for (const [, statement, column] of sql.createIndexes) {
    if (indexed.has(column.toLowerCase())) continue;
    try {
      await db.query(statement);
    } catch (error) {
      const errno = (error as { errno?: number }).errno ?? -1;
      if (errno === KEY_TOO_LONG) {
        // A wide column of someone else's table: a prefix index still serves equality lookups.
        await db.query(statement.replace(/\(`(\w+)`\)$/, '(`$1`(191))')).catch(() => undefined);
      } else if (!IGNORED_INDEX_ERRNOS.has(errno)) {
        throw error;
      }
    }
  }
}

/**
 * MySQL has no index on an expression that MariaDB shares, so the id's number is a VIRTUAL
 * generated column with an index: MAX over it is answered from the index ("Select tables
 * optimized away"). INVISIBLE keeps it out of `SELECT *` and of column-less INSERTs, so the
 * official SDK and people with SQL see the layout's own columns; rows they insert get their
 * number from the server. False (the store then probes ids after the last one it made) when the
 * user may not alter the table or the server cannot add such a column.
 */
async function addIdNumberColumn(db: SqlRunner, sql: TokenSql, table: string): Promise<boolean> {
  const indexed = async () =>
    (
      await db.query(
        'SELECT 1 AS found FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ? AND SEQ_IN_INDEX = 1',
        [table, ID_NUMBER_COLUMN],
      )
    ).length > 0;
  if (await indexed()) return true;
  const column = await db.query(
    'SELECT 1 AS found FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
    [table, ID_NUMBER_COLUMN],
  );
  const index = `\`${`${table}_id_num_idx`.slice(0, 64)}\``;
  const addIndex = `ADD INDEX ${index} (\`${ID_NUMBER_COLUMN}\`)`;
  const statement =
    column.length > 0
      ? `ALTER TABLE ${sql.table} ${addIndex}`
      : `ALTER TABLE ${sql.table} ADD COLUMN \`${ID_NUMBER_COLUMN}\` BIGINT UNSIGNED AS (${sql.idNumber}) VIRTUAL INVISIBLE, ${addIndex}`;
  try {
    await db.query(statement);
    return true;
  } catch (error) {
    const errno = (error as { errno?: number }).errno ?? -1;
    if (ALREADY_ADDED_ERRNOS.has(errno)) return indexed();
    if (CANNOT_ADD_ERRNOS.has(errno)) return false;
    throw error;
  }
}
