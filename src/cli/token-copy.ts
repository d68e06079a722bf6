/**
 * Copying one token into another store the way Zoho's matching rules see it, so a rerun or a
 * non-empty target never gets a duplicate: the target row the rules find is updated; a token no
 * rule applies to is matched by its whole content. A new row keeps the source id when the target
 * has no token with that id (the official SDKs look tokens up by id), else gets a new one; the
 * caller copies those last (`renumber: false` defers them), so that a new id handed out early
 * cannot take the id of a later source token. Each token is one saveToken call: atomic in every
 * store.
 */
import type { TokenStore } from '../store.js';
import { matchRule, type OAuthToken, type StoredToken, sameTokenContent } from '../token.js';

export type CopyOutcome = 'inserted' | 'renumbered' | 'updated' | 'unchanged' | 'deferred';

function contentOf(token: StoredToken): OAuthToken {
  const { id: _id, ...content } = token;
  return content;
}

export class TokenCopier {
  private readonly target: TokenStore;
  /** Target tokens no matching rule applies to, loaded once when first needed. */
  private ruleless: StoredToken[] | null = null;

  constructor(target: TokenStore) {
    this.target = target;
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
   * target already uses is left alone ('deferred') unless `renumber` is true.
   */
  async copy(token: StoredToken, options: { renumber: boolean } = { renumber: true }): Promise<CopyOutcome> {
    const content = contentOf(token);
    const existing = await this.findCopy(token);
    if (existing) {
      if (sameTokenContent(existing, content)) return 'unchanged';
      await this.target.saveToken({ ...content, id: existing.id });
      return 'updated';
    }
    const idTaken = (await this.target.findTokenById(token.id)) !== null;
    if (idTaken && !options.renumber) return 'deferred';
    const saved = await this.target.saveToken(idTaken ? content : { ...content, id: token.id });
    if (!matchRule(content)) (await this.ruleLess()).push(saved);
    return idTaken ? 'renumbered' : 'inserted';
  }

  private async ruleLess(): Promise<StoredToken[]> {
    this.ruleless ??= (await this.target.getTokens()).filter((t) => !matchRule(contentOf(t)));
    return this.ruleless;
  }
}
