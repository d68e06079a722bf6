/**
 * Tokens as rows of Zoho's ten columns (id, user_name, ..., api_domain), by position. Used by
 * the list store, the SQL stores and the file store so every store converts the same way.
 */
import { TokenStoreError } from './errors.js';
import { COLUMN_NAMES, type OAuthToken, type StoredToken, TOKEN_FIELDS } from './token.js';

/** One stored row: ten text cells, null where empty. `expiry_time` is epoch ms as digits. */
export type TokenRow = (string | null)[];

export function tokenToRow(token: StoredToken): TokenRow {
  return TOKEN_FIELDS.map((field) => {
    const value = token[field];
    return value === undefined ? null : String(value);
  });
}

/**
 * Rebuilds a token from a row. `where` names the place (file and line, table and id) for the
 * error when a stored value is unreadable.
 */
export function rowToToken(row: readonly (string | number | null | undefined)[], where: string): StoredToken {
  const token: OAuthToken = {};
  TOKEN_FIELDS.forEach((field, i) => {
    const cell = row[i];
    if (cell === null || cell === undefined || cell === '') return;
    if (field === 'expiryTime') {
      const text = String(cell).trim();
      if (!/^\d{1,16}$/.test(text)) {
        throw new TokenStoreError('CORRUPT', `Unreadable ${COLUMN_NAMES[i]} in ${where}: expected epoch milliseconds`, {
          field,
        });
      }
      token.expiryTime = Number(text);
    } else {
      token[field] = String(cell);
    }
  });
  if (token.id === undefined) throw new TokenStoreError('CORRUPT', `Row without an id in ${where}`, { field: 'id' });
  return token as StoredToken;
}

/** A row object keyed by column name (as SQL drivers return) in column order. */
export function recordToRow(record: Record<string, unknown>): (string | number | null)[] {
  return COLUMN_NAMES.map((c) => {
    const v = record[c];
    return v === undefined || v === null ? null : typeof v === 'number' ? v : String(v);
  });
}
