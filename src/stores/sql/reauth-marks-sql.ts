/**
 * The side table of re-authorization marks (reauth-marks.ts) for the SQL stores, created by us
 * beside Zoho's token table, which stays exactly as the official SDKs made it. One side table
 * per database (PostgreSQL: per schema of the token table); each row names its token table, so
 * stores of several token tables share it. Created at the first mark; reads of a database
 * without it find no marks. Every value is bound; the names are validated identifiers.
 */
import type { SqlDialect } from './dialect.js';
import { validateTableName } from './identifier.js';

export const REAUTH_MARKS_TABLE = 'ztoken_reauth_marks';

export interface ReauthMarkSql {
  create: string;
  /** Parameters: token table, token id, hash, reason, markedAt. */
  upsert: string;
  /** Parameters: token table, token id. */
  selectOne: string;
  /** Parameters: token table. */
  selectAll: string;
  /** Parameters: token table, token id. */
  delete: string;
}

/** The statements for marks of `tokenTable`, in the side table of `schema` (PostgreSQL) or the database. */
export function reauthMarkSql(d: SqlDialect, schema?: string): ReauthMarkSql {
  const name = d.quote(REAUTH_MARKS_TABLE);
  const table = schema === undefined ? name : `${d.quote(validateTableName(schema))}.${name}`;
  const p = (n: number) => d.param(n);
  const columns = 'token_table, token_id, refresh_token_hash, reason, marked_at';
  // MySQL: byte-exact comparison of ids, as the token table's own.
  const tableOptions = d.name === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '';
  const create = `CREATE TABLE IF NOT EXISTS ${table} (token_table varchar(64) NOT NULL, token_id varchar(255) NOT NULL, refresh_token_hash char(64) NOT NULL, reason varchar(64) NOT NULL, marked_at bigint NOT NULL, PRIMARY KEY (token_table, token_id))${tableOptions}`;
  const values = `VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`;
  const upsert =
    d.name === 'mysql'
      ? `INSERT INTO ${table} (${columns}) ${values} ON DUPLICATE KEY UPDATE refresh_token_hash = VALUES(refresh_token_hash), reason = VALUES(reason), marked_at = VALUES(marked_at)`
      : `INSERT INTO ${table} (${columns}) ${values} ON CONFLICT (token_table, token_id) DO UPDATE SET refresh_token_hash = excluded.refresh_token_hash, reason = excluded.reason, marked_at = excluded.marked_at`;
  const select = `SELECT token_id, refresh_token_hash, reason, marked_at FROM ${table} WHERE token_table = ${p(1)}`;
  return {
    create,
    upsert,
    selectOne: `${select} AND token_id = ${p(2)}`,
    selectAll: select,
    delete: `DELETE FROM ${table} WHERE token_table = ${p(1)} AND token_id = ${p(2)}`,
  };
}

/** A side-table row as the mark it claims to be (readReauthMark then validates it). */
export function markOfRow(row: Record<string, unknown>): Record<string, unknown> {
  const markedAt = row.marked_at;
  return {
    tokenId: row.token_id,
    refreshTokenHash: row.refresh_token_hash,
    reason: row.reason,
    // bigint columns come back as strings (mysql2 bigNumberStrings, pg int8), digits only.
    markedAt: typeof markedAt === 'string' && /^\d{1,16}$/.test(markedAt) ? Number(markedAt) : markedAt,
  };
}
