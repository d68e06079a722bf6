/**
 * Zoho's oauthtoken table on MySQL/MariaDB: created when missing (Zoho's columns and types, a
 * binary collation so lookups are exact); Zoho's columns are never altered. When the user may,
 * an index is added on each lookup column, and an invisible generated column holding the id's
 * number, indexed, so the next id is one index probe (see addIdNumberColumn). Describes the table
 * for the store: column widths (to refuse values that do not fit), for case-insensitive
 * collations an exact predicate, and how to find the largest numeric id.
 */
import { TokenStoreError } from '../../errors.js';
import { COLUMN_NAMES, type ColumnName } from '../../token.js';
import type { TokenSql } from './dialect.js';
import { missingTable } from './missing-table.js';
import type { SqlRunner, TableInfo } from './sql-driver.js';

const LOOKUP_COLUMNS: readonly ColumnName[] = ['user_name', 'refresh_token', 'access_token', 'grant_token'];
/** Duplicate key name (another process added it first); no privilege to add an index. */
const IGNORED_INDEX_ERRNOS = new Set([1061, 1142, 1044, 1227, 1370]);
const KEY_TOO_LONG = 1071;
/** The generated column with each numeric id's number (NULL for other ids), and its index. */
export const ID_NUMBER_COLUMN = 'ztoken_id_num';
/** Duplicate column or key name: another process added it first. */
const ALREADY_ADDED_ERRNOS = new Set([1060, 1061]);
/** No ALTER privilege, or a server that refuses the column (old MySQL: no INVISIBLE). */
const CANNOT_ADD_ERRNOS = new Set([1142, 1044, 1227, 1370, 1064, 3105, 1901, 1904]);

interface ColumnInfo {
  name: string;
  max_len: string | number | null;
  coll: string | null;
}

export async function prepareMySqlTable(
  db: SqlRunner & { where: string },
  sql: TokenSql,
  table: string,
  create: boolean,
): Promise<TableInfo> {
  let columns = await describeColumns(db, table);
  if (columns.length === 0) {
    if (!create) throw missingTable(db.where);
    await db.query(`${sql.createTable} ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    columns = await describeColumns(db, table);
  }
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const missing = COLUMN_NAMES.filter((c) => !byName.has(c));
  if (missing.length > 0) {
    throw new TokenStoreError(
      'CORRUPT',
      `Table in ${db.where} lacks Zoho's column(s) ${missing.join(', ')}; it is not an oauthtoken table`,
    );
  }
  await addLookupIndexes(db, sql, table);
  const idNumberReady = await addIdNumberColumn(db, sql, table);
  const info: TableInfo = {
    maxLength: {},
    exactMatch: {},
    ...(idNumberReady ? { maxNumericId: `SELECT MAX(\`${ID_NUMBER_COLUMN}\`) AS max_id FROM ${sql.table}` } : {}),
  };
  for (const column of COLUMN_NAMES) {
    const c = byName.get(column);
    if (c?.max_len !== null && c?.max_len !== undefined) info.maxLength[column] = Number(c.max_len);
    // A case- or accent-insensitive column would match 'Alice' to 'alice': compare bytes too.
    if (c?.coll && !/(_bin|^binary)$/.test(c.coll)) info.exactMatch[column] = `\`${column}\` = ? COLLATE utf8mb4_bin`;
  }
  return info;
}

function describeColumns(db: SqlRunner, table: string): Promise<ColumnInfo[]> {
  return db.query(
    'SELECT COLUMN_NAME AS name, CHARACTER_MAXIMUM_LENGTH AS max_len, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [table],
  ) as Promise<unknown[]> as Promise<ColumnInfo[]>;
}

async function addLookupIndexes(db: SqlRunner, sql: TokenSql, table: string): Promise<void> {
  const rows = await db.query(
    'SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1',
    [table],
  );
  const indexed = new Set(rows.map((r) => String(r.name).toLowerCase()));
  for (const [, statement] of sql.createIndexes) {
    const column = LOOKUP_COLUMNS.find((c) => statement.endsWith(`(\`${c}\`)`));
    if (!column || indexed.has(column)) continue;
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
 * official SDK and people with SQL see Zoho's ten columns; rows they insert get their number from
 * the server. False (the store then probes ids after the last one it made) when the user may not
 * alter the table or the server cannot add such a column.
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
