/**
 * A token table on PostgreSQL: created when missing (under an advisory lock, so processes
 * starting together do not race) with the layout option's columns; an existing table's layout is
 * detected from its columns (table-layouts.ts) and never altered. An index on each lookup column
 * that has none, and for text ids that are counted up (zoho-v6, zoho-v2) one on the numeric value
 * of the id (so the next id is one index probe), added when the user may. Describes column widths
 * so over-long values are refused by name, and NOT NULL columns so a save missing one is refused.
 */
import { COLUMN_NAMES } from '../../token.js';
import { missingTable } from './missing-table.js';
import type { SqlDriver, TableInfo, TableRequest } from './sql-driver.js';
import { type ColumnFacts, columnWidths, detectLayout, requiredColumns, TABLE_LAYOUTS } from './table-layouts.js';

/** Insufficient privilege, a concurrent creator won (duplicate relation / catalog row). */
const IGNORED_INDEX_STATES = new Set(['42501', '42P07', '23505']);

export async function preparePostgresTable(db: SqlDriver, request: TableRequest, table: string): Promise<TableInfo> {
  // The quoted, schema-qualified name: the same in every layout's statements.
  const qualified = request.sqlFor(TABLE_LAYOUTS['zoho-v6'], false).table;
  const exists = async () => (await db.query('SELECT to_regclass($1) AS oid', [qualified]))[0]?.oid != null;
  if (!(await exists())) {
    if (!request.create) throw missingTable(db.where);
    const layout = request.layout ?? TABLE_LAYOUTS['zoho-v6'];
    const create = request.sqlFor(layout, layout.idColumn === 'integer').createTable;
    await db.transaction(async (tx) => {
      await tx.serialize(`ztoken:schema:${qualified}`);
      await tx.query(create);
    });
  }
  const columns = await db.query(
    `SELECT a.attname AS name,
            CASE WHEN a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype) AND a.atttypmod > 4 THEN a.atttypmod - 4 END AS max_len,
            a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) AS is_integer,
            (a.attnotnull AND NOT a.atthasdef AND a.attidentity = '') AS required,
            COALESCE(c.collisdeterministic, true) AS deterministic
       FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [qualified],
  );
  const facts: ColumnFacts[] = columns.map((c) => ({
    name: String(c.name),
    ...(c.max_len === null || c.max_len === undefined ? {} : { maxLength: Number(c.max_len) }),
    integer: c.is_integer === true,
    required: c.required === true,
  }));
  const layout = detectLayout(facts, request.layout, db.where);
  const integerId = facts.find((c) => c.name === 'id')?.integer === true;
  const sql = request.sqlFor(layout, integerId);
  // Only missing indexes are created: CREATE INDEX locks out writers even when it has nothing to do.
  const indexes = await db.query(
    `SELECT ic.relname AS index_name, a.attname AS first_column
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
       LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = $1::regclass`,
    [qualified],
  );
  const names = new Set(indexes.map((i) => String(i.index_name)));
  const firstColumns = new Set(indexes.map((i) => String(i.first_column)));
  const idIndex = `${table}_id_num_idx`.slice(0, 63);
  const statements = sql.createIndexes
    .filter(([name, , column]) => !names.has(name) && !firstColumns.has(column))
    .map(([, statement]) => statement);
  const idIndexStatement = `CREATE INDEX IF NOT EXISTS "${idIndex}" ON ${sql.table} ((${sql.idNumber}))`;
  const wantsIdIndex = !integerId && layout.idNumberIndex;
  if (wantsIdIndex && !names.has(idIndex)) statements.push(idIndexStatement);
  let idIndexReady = integerId || (wantsIdIndex && names.has(idIndex));
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
  const info: TableInfo = {
    sql,
    required: requiredColumns(layout, facts),
    maxLength: columnWidths(layout, facts),
    exactMatch: {},
    ...(idIndexReady ? { maxNumericId: sql.maxNumericId } : {}),
  };
  const byName = new Map(columns.map((c) => [String(c.name), c]));
  for (const canonical of COLUMN_NAMES) {
    const column = layout.columns[canonical];
    // A nondeterministic (e.g. case-insensitive ICU) collation would match 'Alice' to 'alice'.
    if (column !== undefined && byName.get(column)?.deterministic === false) info.exactMatch[canonical] = `"${column}" = $2 COLLATE "C"`;
  }
  return info;
}
