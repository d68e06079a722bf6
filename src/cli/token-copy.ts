/**
 * Copying one token into another store the way Zoho's matching rules see it, so a rerun or a
 * non-empty target never gets a duplicate: the target row the rules find is updated; a token no
 * rule applies to is matched by its whole content. A new row keeps the source id when the target
 * has no token with that id (the official SDKs look tokens up by id), else gets a new one; the
 * caller copies those last (`renumber: false` defers them), so that a new id handed out early
 * cannot take the id of a later source token. A source id the target cannot hold (a Python
 * table's uuid going into a file of 10-digit ids) is treated like a taken one: the store's own id
 * check decides, never a guess here. Each token is one saveToken call: atomic in every store.
 */
import { isIdRefusal } from '../errors.js';
import type { TokenStore } from '../store.js';
import { matchRule, type OAuthToken, type StoredToken, sameTokenContent } from '../token.js';

export type CopyOutcome = 'inserted' | 'renumbered' | 'updated' | 'unchanged' | 'deferred';
/** A source id in the target: free to keep, used by another token, or one the target cannot hold. */
export type IdStatus = 'free' | 'taken' | 'unfit';

export interface TokenCopierOptions {
  /**
   * Whether the store the tokens finally go to holds `id` (default: the target's own id check).
   * A plan played in memory (dry run, bulk) asks the real target this way.
   */
  holdsId?(id: string): Promise<boolean>;
}

/** Whether `store` accepts `id` as an id, by its own check (findTokenById refuses an id it cannot hold). */
export async function storeHoldsId(store: TokenStore, id: string): Promise<boolean> {
  try {
    await store.findTokenById(id);
    return true;
  } catch (error) {
    if (isIdRefusal(error)) return false;
    throw error;
  }
}

function contentOf(token: StoredToken): OAuthToken {
  const { id: _id, ...content } = token;
  return content;
}

export class TokenCopier {
  private readonly target: TokenStore;
  /** Target tokens no matching rule applies to, loaded once when first needed. */
  private ruleless: StoredToken[] | null = null;

  private readonly holdsId: ((id: string) => Promise<boolean>) | undefined;

  constructor(target: TokenStore, options: TokenCopierOptions = {}) {
    this.target = target;
    this.holdsId = options.holdsId;
  }

  /** Whether the source id can be kept in the target. */
  async idStatus(id: string): Promise<IdStatus> {
    if (this.holdsId && !(await this.holdsId(id))) return 'unfit';
    try {
      return (await this.target.findTokenById(id)) ? 'taken' : 'free';
    } catch (error) {
      if (isIdRefusal(error)) return 'unfit';
      throw error;
    }
  }

  /** The target's copy of a source token by the matching rules (or by content), or null. */
  async findCopy(token: StoredToken): Promise<StoredToken | null> {
    const content = contentOf(token);
    if (matchRule(content)) return this.target.findToken(content);
    const candidates = await this.ruleLess();
    return candidates.find((candidate) => sameTokenContent(candidate, content)) ?? null;
  }

  /**
   * Copies one token; the outcome says what happened in the target. A new token whose id the
   * target already uses, or cannot hold, is left alone ('deferred') unless `renumber` is true.
   */
  async copy(token: StoredToken, options: { renumber: boolean } = { renumber: true }): Promise<CopyOutcome> {
    const content = contentOf(token);
    const existing = await this.findCopy(token);
    if (existing) {
      if (sameTokenContent(existing, content)) return 'unchanged';
      await this.target.saveToken({ ...content, id: existing.id });
      return 'updated';
    }
    const keepId = (await this.idStatus(token.id)) === 'free';
    if (!keepId && !options.renumber) return 'deferred';
    const saved = await this.target.saveToken(keepId ? { ...content, id: token.id } : content);
    if (!matchRule(content)) (await this.ruleLess()).push(saved);
    return keepId ? 'inserted' : 'renumbered';
  }

  private async ruleLess(): Promise<StoredToken[]> {
    this.ruleless ??= (await this.target.getTokens()).filter((t) => !matchRule(contentOf(t)));
    return this.ruleless;
  }
}
