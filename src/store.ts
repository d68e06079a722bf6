/**
 * The TokenStore contract: the seed's six methods (async), plus close() and an optional
 * cross-process lock. Every store in src/stores implements it and passes the conformance kit
 * (src/testing).
 */
import type { ReauthMark } from './reauth-marks.js';
import type { OAuthToken, StoredToken } from './token.js';

export interface TokenStore {
  /** The full stored token matching `partial` by Zoho's rules (token.ts matchRule), or null. */
  findToken(partial: OAuthToken): Promise<StoredToken | null>;
  /** Updates the matching row (by id first, then by the rules) or inserts; resolves to what is stored. */
  saveToken(token: OAuthToken): Promise<StoredToken>;
  /** Deletes one token by id; deleting an unknown id is not an error. */
  deleteToken(id: string): Promise<void>;
  /** Every stored token, ordered by id (numeric ids numerically). */
  getTokens(): Promise<StoredToken[]>;
  /** Deletes every token. */
  deleteTokens(): Promise<void>;
  /** The token with this id, or null. */
  findTokenById(id: string): Promise<StoredToken | null>;
  /** Releases connections and file handles; further calls fail with reason 'CLOSED'. */
  close(): Promise<void>;
  /**
   * Optional: runs `fn` while holding a lock named `key` that other processes sharing this store
   * also respect. The lock expires after `ttlMs` if its holder dies; only its owner releases it.
   */
  withLock?<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;
}

/** A store that offers cross-process locking. */
export type LockingTokenStore = TokenStore & Required<Pick<TokenStore, 'withLock'>>;

export function supportsLocking(store: TokenStore): store is LockingTokenStore {
  return typeof store.withLock === 'function';
}

/** A store's class name for messages ("DBStore"); a plain object store is "TokenStore". */
export function storeNameOf(store: TokenStore): string {
  const name = (store as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== 'Object' ? name : 'TokenStore';
}

/**
 * Optional: many new tokens written at once, for `ztoken migrate` into an empty store. The
 * tokens carry their ids and are inserted in one transaction, only while the store holds exactly
 * `expectedCount` tokens (0 for the first batch, then what the caller's batches wrote): it
 * resolves false, having written nothing, when another writer changed the count (the caller then
 * saves one token at a time, by the matching rules). All or nothing per call.
 */
export interface BulkInsertStore {
  bulkInsert(tokens: readonly StoredToken[], expectedCount: number): Promise<boolean>;
}

export function supportsBulkInsert(store: TokenStore): store is TokenStore & BulkInsertStore {
  return typeof (store as Partial<BulkInsertStore>).bulkInsert === 'function';
}

/**
 * Optional: re-authorization marks (reauth-marks.ts), kept beside the tokens and never in Zoho's
 * own table or file. A mark says Zoho rejected a token's refresh token; setting one replaces the
 * token's previous mark. What a store reads back is validated: a malformed mark is skipped with a
 * warning. Whether a mark still counts is decided by isStaleReauthMark, by the caller: a store
 * wrapped by EncryptedStore sees only ciphertext, so it cannot compare refresh tokens itself.
 */
export interface ReauthMarkStore {
  setReauthMark(mark: ReauthMark): Promise<void>;
  /** The mark of one token, or null. */
  getReauthMark(tokenId: string): Promise<ReauthMark | null>;
  /** Every well-formed mark, ordered by token id. */
  getReauthMarks(): Promise<ReauthMark[]>;
  /** Removes a token's mark; clearing a token without one is not an error. */
  clearReauthMark(tokenId: string): Promise<void>;
}

export function supportsReauthMarks(store: TokenStore): store is TokenStore & ReauthMarkStore {
  const marks = store as Partial<ReauthMarkStore>;
  return (
    typeof marks.setReauthMark === 'function' &&
    typeof marks.getReauthMark === 'function' &&
    typeof marks.getReauthMarks === 'function' &&
    typeof marks.clearReauthMark === 'function'
  );
}
