/**
 * Zoho's oauthtoken table on MySQL/MariaDB: created when missing (Zoho's columns and types, a
 * binary collation so lookups are exact), never altered when present; an index added on each
 * lookup column when the user may add one. Describes the table for the store: column widths
 * (to refuse values that do not fit) and, for case-insensitive collations, an exact predicate.
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
  const info: TableInfo = { maxLength: {}, exactMatch: {} };
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
