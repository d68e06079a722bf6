/**
 * Where RedisStore keeps what, under one validated prefix (default `zoho:`):
 *
 *   <prefix>token:<id>                 hash: Zoho's column names -> values (absent fields not stored)
 *   <prefix>idx:<column>:<sha256 hex>  sorted set of the ids whose <column> has that value
 *   <prefix>ids                        sorted set of every id (getTokens order, largest numeric id)
 *   <prefix>indexkeys                  hash: id -> the index keys that hold it, one per line
 *   <prefix>lock:<key>                 withLock's lock (string: owner, with a ttl)
 *   <prefix>reauthmarks                hash: token id -> its re-authorization mark, as JSON
 *
 * On Redis Cluster the prefix is a hash tag, `{zoho:}token:<id>` and so on: every key of the store
 * lives in one slot, so the scripts (which reach token keys by name) and pipelines stay
 * single-slot. A single server keeps the plain names.
 *
 * Values go into index key names hashed, so a long or hostile value never makes a long or odd
 * key. `indexkeys` lets the Lua scripts unindex a token without hashing in Lua (Redis Lua has no
 * sha256) and lets deleteTokens find every key of the store without SCANning the database.
 */
import { createHash } from 'node:crypto';
import { TokenStoreError } from '../../errors.js';
import { COLUMN_OF, isNumericId, type LookupField, MAX_ID_LENGTH } from '../../token.js';

export const DEFAULT_PREFIX = 'zoho:';

/** Letters, digits and `:_-.`: no glob characters, so `<prefix>*` matches only our keys. */
const PREFIX = /^[A-Za-z0-9:_.-]{1,64}$/;

export function validatePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    const shown = typeof prefix === 'string' ? JSON.stringify(prefix.slice(0, 70)) : typeof prefix;
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `Invalid Redis key prefix ${shown}: use 1 to 64 letters, digits or the characters : _ - .`,
    );
  }
  return prefix;
}

/** The fields a token is indexed by (the id is the hash's own key). */
export type IndexedField = Exclude<LookupField, 'id'>;
export const INDEXED_FIELDS: readonly IndexedField[] = ['userName', 'accessToken', 'grantToken', 'refreshToken'];

/** The largest numeric id (ten nines); numeric ids score as themselves, others just above it. */
export const MAX_NUMERIC_ID = 10 ** MAX_ID_LENGTH - 1;
const NON_NUMERIC_SCORE = 10 ** MAX_ID_LENGTH;

/**
 * An id's score in the sorted sets: with Redis ordering equal scores by member, ZRANGE order is
 * compareIds order (numeric ids numerically, then the others as strings), so the first member of
 * an index is the lowest id.
 */
export function idScore(id: string): number {
  return isNumericId(id) ? Number(id) : NON_NUMERIC_SCORE;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

const INDEX_MEMO_SIZE = 1_024;

export class RedisKeyLayout {
  readonly prefix: string;
  /** What every key starts with: the prefix, or on a cluster the prefix as a hash tag. */
  readonly keyPrefix: string;
  readonly ids: string;
  readonly indexKeys: string;
  readonly tokenPrefix: string;
  /** One hash of every re-authorization mark: a single key, so a single slot on a cluster too. */
  readonly reauthMarks: string;

  constructor(prefix: string = DEFAULT_PREFIX, options: { hashTag?: boolean } = {}) {
    this.prefix = validatePrefix(prefix);
    this.keyPrefix = options.hashTag ? `{${prefix}}` : prefix;
    this.ids = `${this.keyPrefix}ids`;
    this.indexKeys = `${this.keyPrefix}indexkeys`;
    this.tokenPrefix = `${this.keyPrefix}token:`;
    this.reauthMarks = `${this.keyPrefix}reauthmarks`;
  }

  token(id: string): string {
    return `${this.tokenPrefix}${id}`;
  }

  /** Index key names of recent values: a process looks up the same few tokens again and again. */
  private readonly indexMemo = new Map<string, string>();

  index(field: IndexedField, value: string): string {
    const memoKey = `${field}\u0000${value}`;
    let key = this.indexMemo.get(memoKey);
    if (key === undefined) {
      key = `${this.keyPrefix}idx:${COLUMN_OF[field]}:${sha256Hex(value)}`;
      if (this.indexMemo.size >= INDEX_MEMO_SIZE) this.indexMemo.clear();
      this.indexMemo.set(memoKey, key);
    }
    return key;
  }

  lock(key: string): string {
    return `${this.keyPrefix}lock:${key}`;
  }
}
