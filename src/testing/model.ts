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
  type TokenField,
  tokenToStore,
  validateId,
} from '../token.js';

export interface ReferenceModelOptions {
  /** How the store makes new ids: largest numeric id + 1 (default), or its own uuids. */
  newIds?: 'numeric' | 'uuid';
  /** Longest id the store accepts (default MAX_ID_LENGTH). */
  maxIdLength?: number;
  /** Fields the store's layout has no place for: never stored, never returned. */
  absentFields?: readonly TokenField[];
}

export class ReferenceModel {
  private tokens: StoredToken[] = [];

  constructor(private readonly options: ReferenceModelOptions = {}) {}

  findToken(partial: OAuthToken): StoredToken | null {
    const rule = lookupRuleOf(partial);
    return rule ? this.first((t) => t[rule.field] === rule.value) : null;
  }

  findTokenById(id: string): StoredToken | null {
    const valid = validateId(id, 'id', this.options.maxIdLength);
    return this.first((t) => t.id === valid);
  }

  /**
   * `storeId` is the id the store under test gave a new token: a store making uuids cannot be
   * predicted, so the model takes its id (numeric ids are still computed and compared).
   */
  saveToken(input: OAuthToken, storeId?: string): StoredToken {
    const token = normalizeTokenForSave(input, { maxIdLength: this.options.maxIdLength });
    const existing = locateForSave(token, (field, value) => this.first((t) => t[field] === value));
    const generated = this.options.newIds === 'uuid' && storeId !== undefined ? storeId : nextId(this.tokens.map((t) => t.id));
    const id = existing?.id ?? token.id ?? generated;
    const stored = tokenToStore(token, id);
    for (const field of this.options.absentFields ?? []) delete stored[field];
    this.tokens = this.tokens.filter((t) => t.id !== id).concat(stored);
    return copyToken(stored);
  }

  deleteToken(id: string): void {
    const valid = validateId(id, 'id', this.options.maxIdLength);
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
