/**
 * Loading a store with many tokens fast, in the store's own format, without its saveToken (setup
 * speed, not what is measured): SQLite in one transaction of INSERTs, Zoho's token file in one
 * write, and tokens as they would be stored encrypted. The SQL servers load through
 * lib-stores.ts (bulkLoad) and Redis through RedisStore.importTokens (pipelines).
 */
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { FieldCipher } from '../src/crypto/cipher.js';
import { tokenToRow } from '../src/row.js';
import { formatRow } from '../src/stores/file/csv.js';
import { TOKEN_FILE_HEADER } from '../src/stores/file/token-file.js';
import { SQLiteStore } from '../src/stores/sqlite.js';
import { COLUMN_NAMES, SECRET_FIELDS, type StoredToken } from '../src/token.js';

/** Creates the table (and its indexes) with SQLiteStore, then inserts every row in one transaction. */
export function seedSqliteFile(path: string, tokens: Iterable<StoredToken>): void {
  new SQLiteStore({ path }).close();
  const db = new Database(path);
  const insert = db.prepare(`INSERT INTO oauthtoken (${COLUMN_NAMES.join(', ')}) VALUES (${COLUMN_NAMES.map(() => '?').join(', ')})`);
  db.transaction(() => {
    for (const token of tokens) insert.run(...tokenToRow(token));
  })();
  db.close();
}

/** Writes Zoho's token file (header, one row per token) in one write, mode 0600. */
export function seedTokenFile(path: string, tokens: Iterable<StoredToken>): void {
  const lines = [TOKEN_FILE_HEADER];
  for (const token of tokens) lines.push(formatRow(tokenToRow(token)));
  writeFileSync(path, lines.join('\n'), { mode: 0o600 });
}

/** A token as EncryptedStore stores it: every secret field in its encrypted form. */
export function encryptedToken(cipher: FieldCipher, token: StoredToken): StoredToken {
  const out = { ...token };
  for (const field of SECRET_FIELDS) {
    const value = token[field];
    if (value !== undefined) out[field] = cipher.encrypt(field, value);
  }
  return out;
}

/** `count` items made by `make(1..count)`, lazily. */
export function* numbered<T>(count: number, make: (i: number) => T, from = 1): Generator<T> {
  for (let i = from; i < from + count; i++) yield make(i);
}
