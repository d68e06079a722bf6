/**
 * MemoryStore: tokens in a Map with one index per lookup field, so every lookup is O(1).
 * Lives and dies with the process; withLock coordinates callers inside this process only.
 */
import { ClosedGuard } from './closed.js';
import { LocalLocks } from './lock.js';
import type { TokenStore } from '../store.js';
import {
  compareIds,
  copyToken,
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

type IndexedField = Exclude<LookupField, 'id'>;
const INDEXED: readonly IndexedField[] = ['userName', 'accessToken', 'grantToken', 'refreshToken'];

export class MemoryStore implements TokenStore {
  private readonly rows = new Map<string, StoredToken>();
  private readonly indexes = new Map<IndexedField, Map<string, Set<string>>>(INDEXED.map((f) => [f, new Map()]));
  /** Largest numeric id stored; null after the largest was deleted (recomputed on next insert). */
  private maxNumericId: number | null = 0;
  private readonly guard = new ClosedGuard('MemoryStore');
  private readonly locks = new LocalLocks();

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    this.guard.check();
    const rule = lookupRuleOf(partial);
    const found = rule ? this.lookup(rule.field, rule.value) : null;
    return found ? copyToken(found) : null;
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    this.guard.check();
    const found = this.rows.get(validateId(id));
    return found ? copyToken(found) : null;
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.guard.check();
    const token = normalizeTokenForSave(input);
    // Synchronous from here on: concurrent saves cannot interleave between locate and write.
    const existing = locateForSave(token, (field, value) => this.lookup(field, value));
    const id = existing?.id ?? token.id ?? nextIdAfter(this.currentMaxId());
    const stored = tokenToStore(token, id);
    if (existing) this.unindex(existing);
    this.rows.set(id, stored);
    this.index(stored);
    return copyToken(stored);
  }

  async deleteToken(id: string): Promise<void> {
    this.guard.check();
    const existing = this.rows.get(validateId(id));
    if (!existing) return;
    this.unindex(existing);
    this.rows.delete(id);
    if (isNumericId(id) && Number(id) === this.maxNumericId) this.maxNumericId = null;
  }

  async getTokens(): Promise<StoredToken[]> {
    this.guard.check();
    return [...this.rows.values()].sort((a, b) => compareIds(a.id, b.id)).map(copyToken);
  }

  async deleteTokens(): Promise<void> {
    this.guard.check();
    this.rows.clear();
    for (const index of this.indexes.values()) index.clear();
    this.maxNumericId = 0;
  }

  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    this.guard.check();
    return this.locks.withLock(key, ttlMs, fn, 'MemoryStore');
  }

  async close(): Promise<void> {
    this.guard.close();
  }

  private lookup(field: LookupField, value: string): StoredToken | null {
    if (field === 'id') return this.rows.get(value) ?? null;
    const ids = this.indexes.get(field)?.get(value);
    if (!ids || ids.size === 0) return null;
    let best: string | undefined;
    for (const id of ids) if (best === undefined || compareIds(id, best) < 0) best = id;
    return best === undefined ? null : (this.rows.get(best) ?? null);
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
    for (const field of INDEXED) {
      const value = token[field];
      if (value === undefined) continue;
      const index = this.indexes.get(field);
      if (!index) continue;
      const ids = index.get(value);
      if (ids) ids.add(token.id);
      else index.set(value, new Set([token.id]));
    }
  }

  private unindex(token: StoredToken): void {
    for (const field of INDEXED) {
      const value = token[field];
      if (value === undefined) continue;
      const ids = this.indexes.get(field)?.get(value);
      ids?.delete(token.id);
      if (ids && ids.size === 0) this.indexes.get(field)?.delete(value);
    }
  }
}
