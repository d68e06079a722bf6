/**
 * Zoho's oauthtoken table on PostgreSQL: created when missing (under an advisory lock, so
 * processes starting together do not race), never altered when present; an index on each
 * lookup column and one on the numeric value of the id (so the next id is one index probe),
 * added when the user may. Describes column widths so over-long values are refused by name.
 */
import { TokenStoreError } from '../../errors.js';
import { COLUMN_NAMES, type ColumnName } from '../../token.js';
import type { TokenSql } from './dialect.js';
import { missingTable } from './missing-table.js';
import type { SqlDriver, TableInfo } from './sql-driver.js';

/** Insufficient privilege, a concurrent creator won (duplicate relation / catalog row). */
const IGNORED_INDEX_STATES = new Set(['42501', '42P07', '23505']);

export async function preparePostgresTable(db: SqlDriver, sql: TokenSql, table: string, create: boolean): Promise<TableInfo> {
  const exists = async () => (await db.query('SELECT to_regclass($1) AS oid', [sql.table]))[0]?.oid != null;
  if (!(await exists())) {
    if (!create) throw missingTable(db.where);
    await db.transaction(async (tx) => {
      await tx.serialize(`ztoken:schema:${sql.table}`);
      await tx.query(sql.createTable);
    });
  }
  const columns = await db.query(
    `SELECT a.attname AS name,
            CASE WHEN a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype) AND a.atttypmod > 4 THEN a.atttypmod - 4 END AS max_len,
            COALESCE(c.collisdeterministic, true) AS deterministic
       FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
    [sql.table],
  );
  const byName = new Map(columns.map((c) => [String(c.name), c]));
  const missing = COLUMN_NAMES.filter((c) => !byName.has(c));
  if (missing.length > 0) {
    throw new TokenStoreError(
      'CORRUPT',
      `Table in ${db.where} lacks Zoho's column(s) ${missing.join(', ')}; it is not an oauthtoken table`,
    );
  }
  // Only missing indexes are created: CREATE INDEX locks out writers even when it has nothing to do.
  const indexes = await db.query(
    `SELECT ic.relname AS index_name, a.attname AS first_column
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
       LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = $1::regclass`,
    [sql.table],
  );
  const names = new Set(indexes.map((i) => String(i.index_name)));
  const firstColumns = new Set(indexes.map((i) => String(i.first_column)));
  const idIndex = `${table}_id_num_idx`.slice(0, 63);
  const statements = sql.createIndexes
    .filter(([name, statement]) => !names.has(name) && !COLUMN_NAMES.some((c) => firstColumns.has(c) && statement.endsWith(`("${c}")`)))
    .map(([, statement]) => statement);
  const idIndexStatement = `CREATE INDEX IF NOT EXISTS "${idIndex}" ON ${sql.table} ((${sql.idNumber}))`;
  if (!names.has(idIndex)) statements.push(idIndexStatement);
  let idIndexReady = names.has(idIndex);
  for (const statement of statements) {
    try {
      await db.query(statement);
      if (statement === idIndexStatement) idIndexReady = true;
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!IGNORED_INDEX_STATES.has(code)) throw error;
      // A concurrent creator made it; only a missing privilege leaves it missing.
      if (statement === idIndexStatement && code !== '42501') idIndexReady = true;
    }
  }
  const info: TableInfo = { maxLength: {}, exactMatch: {}, ...(idIndexReady ? { maxNumericId: sql.maxNumericId } : {}) };
  for (const column of COLUMN_NAMES) {
    const c = byName.get(column);
    if (c?.max_len !== null && c?.max_len !== undefined) info.maxLength[column as ColumnName] = Number(c.max_len);
    // A nondeterministic (e.g. case-insensitive ICU) collation would match 'Alice' to 'alice'.
    if (c?.deterministic === false) info.exactMatch[column as ColumnName] = `"${column}" = $2 COLLATE "C"`;
  }
  return info;
}
