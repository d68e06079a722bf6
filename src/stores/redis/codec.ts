/**
 * Tokens as Redis hashes with Zoho's column names as fields (row.ts does the conversion, so
 * Redis stores values exactly as the SQL and file stores do; absent fields are not stored).
 */
import { recordToRow, rowToToken, tokenToRow } from '../../row.js';
import { COLUMN_NAMES, type OAuthToken, type StoredToken } from '../../token.js';
import { INDEXED_FIELDS, type RedisKeyLayout } from './layout.js';

/** The hash fields of a token, as flat column/value pairs, without the id (the script adds it). */
export function hashPairs(token: OAuthToken): string[] {
  const row = tokenToRow({ ...token, id: '' });
  const pairs: string[] = [];
  for (let i = 1; i < row.length; i++) {
    const cell = row[i];
    if (cell !== null && cell !== undefined) pairs.push(COLUMN_NAMES[i] as string, cell);
  }
  return pairs;
}

/** The index keys a token belongs in, one per line (the form the scripts keep in `indexkeys`). */
export function indexKeysOf(token: OAuthToken, keys: RedisKeyLayout): string {
  const out: string[] = [];
  for (const field of INDEXED_FIELDS) {
    const value = token[field];
    if (value !== undefined) out.push(keys.index(field, value));
  }
  return out.join('\n');
}

/** A token from HGETALL (an object keyed by column) or from the find script (a row of ten cells). */
export function hashToToken(hash: Record<string, string> | readonly (string | null)[], where: string): StoredToken {
  return rowToToken(Array.isArray(hash) ? hash : recordToRow(hash as Record<string, string>), where);
}
