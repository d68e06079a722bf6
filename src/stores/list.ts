/**
 * ListStore: tokens kept as rows (arrays of Zoho's ten columns) in a list, as the seed article's
 * list-based reference store does. Every lookup scans the list; it is the simplest honest store
 * and the conformance kit keeps it to the same contract as the others.
 */
import { ClosedGuard } from './closed.js';
import { LocalLocks } from './lock.js';
import { rowToToken, type TokenRow, tokenToRow } from '../row.js';
import type { ReauthMark } from '../reauth-marks.js';
import type { ReauthMarkStore, TokenStore } from '../store.js';
import { LocalReauthMarks } from './local-reauth-marks.js';
import {
  compareIds,
  type LookupField,
  locateForSave,
  lookupRuleOf,
  nextId,
  normalizeTokenForSave,
  type OAuthToken,
  type StoredToken,
  TOKEN_FIELDS,
  tokenToStore,
  validateId,
} from '../token.js';

export class ListStore implements TokenStore, ReauthMarkStore {
  /** The records, each `[id, user_name, client_id, ..., api_domain]`, in insertion order. */
  readonly records: TokenRow[] = [];
  private readonly guard = new ClosedGuard('ListStore');
  private readonly locks = new LocalLocks();
  private readonly marks = new LocalReauthMarks();

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    this.guard.check();
    const rule = lookupRuleOf(partial);
    return rule ? this.lookup(rule.field, rule.value) : null;
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    this.guard.check();
    return this.lookup('id', validateId(id));
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.guard.check();
    const token = normalizeTokenForSave(input);
    const existing = locateForSave(token, (field, value) => this.lookup(field, value));
    const id = existing?.id ?? token.id ?? nextId(this.records.map((r) => r[0] ?? ''));
    const stored = tokenToStore(token, id);
    const row = tokenToRow(stored);
    const at = this.records.findIndex((r) => r[0] === id);
    if (at >= 0) this.records[at] = row;
    else this.records.push(row);
    return rowToToken(row, 'ListStore');
  }

  async deleteToken(id: string): Promise<void> {
    this.guard.check();
    const valid = validateId(id);
    const at = this.records.findIndex((r) => r[0] === valid);
    if (at >= 0) this.records.splice(at, 1);
  }

  async getTokens(): Promise<StoredToken[]> {
    this.guard.check();
    return this.records.map((r) => rowToToken(r, 'ListStore')).sort((a, b) => compareIds(a.id, b.id));
  }

  async deleteTokens(): Promise<void> {
    this.guard.check();
    this.records.length = 0;
  }

  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    this.guard.check();
    return this.locks.withLock(key, ttlMs, fn, 'ListStore');
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

  /** The matching row with the lowest id, rebuilt as a fresh token (so callers get a copy). */
  private lookup(field: LookupField, value: string): StoredToken | null {
    const column = TOKEN_FIELDS.indexOf(field);
    let best: TokenRow | undefined;
    for (const row of this.records) {
      if (row[column] !== value) continue;
      if (!best || compareIds(row[0] ?? '', best[0] ?? '') < 0) best = row;
    }
    return best ? rowToToken(best, 'ListStore') : null;
  }
}
