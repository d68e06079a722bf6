/**
 * MemoryStore: tokens in a Map with one index per lookup field, so every lookup is O(1).
 * Lives and dies with the process; withLock coordinates callers inside this process only.
 */
import { ClosedGuard } from './closed.js';
import { LocalLocks } from './lock.js';
import type { ReauthMark } from '../reauth-marks.js';
import type { ReauthMarkStore, TokenStore } from '../store.js';
import { LocalReauthMarks } from './local-reauth-marks.js';
import { addTo, findIn, removeFrom, type ValueMap } from './value-map.js';
import {
  compareIds,
  type LookupField,
  locateForSave,
  lookupRuleOf,
  nextIdAfter,
  isNumericId,
  normalizeTokenForSave,
  type OAuthToken,
  type StoredToken,
  tokenToStore,
  validateId,
} from '../token.js';
import type { StoreUrl } from './url-params.js';

type IndexedField = Exclude<LookupField, 'id'>;
const INDEXED: readonly IndexedField[] = ['userName', 'accessToken', 'grantToken', 'refreshToken'];

/**
 * The stored form: every field present (undefined when absent) in one fixed shape, so V8 keeps
 * them inside the object and a lookup touches one object instead of two (measurable at 100,000
 * tokens, where each is a cache miss).
 */
function toRecord(t: StoredToken): StoredToken {
  return {
    id: t.id,
    userName: t.userName,
    clientId: t.clientId,
    clientSecret: t.clientSecret,
    refreshToken: t.refreshToken,
    accessToken: t.accessToken,
    grantToken: t.grantToken,
    expiryTime: t.expiryTime,
    redirectUrl: t.redirectUrl,
    apiDomain: t.apiDomain,
  };
}

/** A caller's copy of a record: absent fields stay absent. */
function fromRecord(r: StoredToken): StoredToken {
  const out: StoredToken = { id: r.id };
  if (r.userName !== undefined) out.userName = r.userName;
  if (r.clientId !== undefined) out.clientId = r.clientId;
  if (r.clientSecret !== undefined) out.clientSecret = r.clientSecret;
  if (r.refreshToken !== undefined) out.refreshToken = r.refreshToken;
  if (r.accessToken !== undefined) out.accessToken = r.accessToken;
  if (r.grantToken !== undefined) out.grantToken = r.grantToken;
  if (r.expiryTime !== undefined) out.expiryTime = r.expiryTime;
  if (r.redirectUrl !== undefined) out.redirectUrl = r.redirectUrl;
  if (r.apiDomain !== undefined) out.apiDomain = r.apiDomain;
  return out;
}

export interface MemoryStoreOptions {
  /** Longest id accepted (default MAX_ID_LENGTH, 10); `ztoken migrate` plans in a store as wide as its target. */
  maxIdLength?: number;
}

export class MemoryStore implements TokenStore, ReauthMarkStore {
  private readonly rows = new Map<string, StoredToken>();
  private readonly maxIdLength: number | undefined;
  /**
   * Per lookup field: value -> the token holding it, straight to the object (one hash probe, no
   * id indirection). The rare value that several tokens share maps to all of them.
   */
  private readonly indexes: Record<IndexedField, ValueMap> = {
    userName: new Map(),
    accessToken: new Map(),
    grantToken: new Map(),
    refreshToken: new Map(),
  };
  /** Largest numeric id stored; null after the largest was deleted (recomputed on next insert). */
  private maxNumericId: number | null = 0;
  private readonly guard = new ClosedGuard('MemoryStore');
  private readonly locks = new LocalLocks();
  private readonly marks = new LocalReauthMarks();

  constructor(options: MemoryStoreOptions = {}) {
    this.maxIdLength = options.maxIdLength;
  }

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    this.guard.check();
    const rule = lookupRuleOf(partial);
    const found = rule ? this.lookup(rule.field, rule.value) : null;
    return found ? fromRecord(found) : null;
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    this.guard.check();
    const found = this.rows.get(validateId(id, 'id', this.maxIdLength));
    return found ? fromRecord(found) : null;
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.guard.check();
    const token = normalizeTokenForSave(input, { maxIdLength: this.maxIdLength });
    // Synchronous from here on: concurrent saves cannot interleave between locate and write.
    const existing = locateForSave(token, (field, value) => this.lookup(field, value));
    if (existing) {
      this.update(existing, token);
      return fromRecord(existing);
    }
    const stored = toRecord(tokenToStore(token, token.id ?? nextIdAfter(this.currentMaxId())));
    this.rows.set(stored.id, stored);
    this.index(stored);
    return fromRecord(stored);
  }

  async deleteToken(id: string): Promise<void> {
    this.guard.check();
    const existing = this.rows.get(validateId(id, 'id', this.maxIdLength));
    if (!existing) return;
    this.unindex(existing);
    this.rows.delete(id);
    if (isNumericId(id) && Number(id) === this.maxNumericId) this.maxNumericId = null;
  }

  async getTokens(): Promise<StoredToken[]> {
    this.guard.check();
    return [...this.rows.values()].sort((a, b) => compareIds(a.id, b.id)).map(fromRecord);
  }

  async deleteTokens(): Promise<void> {
    this.guard.check();
    this.rows.clear();
    for (const field of INDEXED) this.indexes[field].clear();
    this.maxNumericId = 0;
  }

  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    this.guard.check();
    return this.locks.withLock(key, ttlMs, fn, 'MemoryStore');
  }

  async setReauthMark(mark: ReauthMark): Promise<void> {
    this.guard.check();
    this.marks.set(mark);
  }

  async getReauthMark(tokenId: string): Promise<ReauthMark | null> {
    this.guard.check();
    return this.marks.get(tokenId);
  }

  async getReauthMarks(): Promise<ReauthMark[]> {
    this.guard.check();
    return this.marks.all();
  }

  async clearReauthMark(tokenId: string): Promise<void> {
    this.guard.check();
    this.marks.clear(tokenId);
  }

  async close(): Promise<void> {
    this.guard.close();
  }

  private lookup(field: LookupField, value: string): StoredToken | null {
    if (field === 'id') return this.rows.get(value) ?? null;
    return findIn(this.indexes[field], value) ?? null;
  }

  /** Zoho's rule: new ids follow the largest numeric id currently stored. */
  private currentMaxId(): number {
    if (this.maxNumericId === null) {
      this.maxNumericId = 0;
      for (const id of this.rows.keys()) if (isNumericId(id)) this.maxNumericId = Math.max(this.maxNumericId, Number(id));
    }
    return this.maxNumericId;
  }

  private index(token: StoredToken): void {
    if (isNumericId(token.id) && this.maxNumericId !== null) {
      this.maxNumericId = Math.max(this.maxNumericId, Number(token.id));
    }
    for (const field of INDEXED) addTo(this.indexes[field], token[field], token);
  }

  private unindex(token: StoredToken): void {
    for (const field of INDEXED) removeFrom(this.indexes[field], token[field], token);
  }

  /**
   * Rewrites a stored record in place with a normalized token's fields (its id stays; callers only
   * ever hold copies). Only the index entries of values that changed are touched: a refresh
   * changes the access token alone, and at 100,000 tokens each index probe is a cache miss.
   */
  private update(record: StoredToken, next: OAuthToken): void {
    for (const field of INDEXED) {
      const before = record[field];
      const after = next[field];
      if (before === after) continue;
      removeFrom(this.indexes[field], before, record);
      record[field] = after;
      addTo(this.indexes[field], after, record);
    }
    record.clientId = next.clientId;
    record.clientSecret = next.clientSecret;
    record.expiryTime = next.expiryTime;
    record.redirectUrl = next.redirectUrl;
    record.apiDomain = next.apiDomain;
  }
}

/** The store `memory:` names (see url.ts): it takes no parameters, and is always new. */
export async function memoryStoreFromUrl(url: StoreUrl): Promise<MemoryStore> {
  url.params([]);
  return new MemoryStore();
}
