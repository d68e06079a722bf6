/**
 * The reference model the property test compares every store against: the rules of ZOHO.md
 * over a plain array, as directly as they can be written.
 */
import { TokenStoreError } from '../errors.js';
import {
  compareIds,
  copyToken,
  locateForSave,
  lookupRuleOf,
  nextId,
  normalizeTokenForSave,
  type OAuthToken,
  type StoredToken,
  tokenToStore,
  validateId,
} from '../token.js';

export class ReferenceModel {
  private tokens: StoredToken[] = [];

  findToken(partial: OAuthToken): StoredToken | null {
    const rule = lookupRuleOf(partial);
    return rule ? this.first((t) => t[rule.field] === rule.value) : null;
  }

  findTokenById(id: string): StoredToken | null {
    const valid = validateId(id);
    return this.first((t) => t.id === valid);
  }

  saveToken(input: OAuthToken): StoredToken {
    const token = normalizeTokenForSave(input);
    const existing = locateForSave(token, (field, value) => this.first((t) => t[field] === value));
    const id = existing?.id ?? token.id ?? nextId(this.tokens.map((t) => t.id));
    const stored = tokenToStore(token, id);
    this.tokens = this.tokens.filter((t) => t.id !== id).concat(stored);
    return copyToken(stored);
  }

  deleteToken(id: string): void {
    const valid = validateId(id);
    this.tokens = this.tokens.filter((t) => t.id !== valid);
  }

  getTokens(): StoredToken[] {
    return [...this.tokens].sort((a, b) => compareIds(a.id, b.id)).map(copyToken);
  }

  deleteTokens(): void {
    this.tokens = [];
  }

  private first(test: (t: StoredToken) => boolean): StoredToken | null {
    const hits = this.tokens.filter(test).sort((a, b) => compareIds(a.id, b.id));
    return hits[0] ? copyToken(hits[0]) : null;
  }
}

/** What an operation produced, comparable between a store and the model. */
export type Outcome = { ok: true; value: unknown } | { ok: false; reason: string };

export async function outcomeOf(fn: () => unknown): Promise<Outcome> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (error instanceof TokenStoreError) return { ok: false, reason: error.reason };
    throw error;
  }
}
