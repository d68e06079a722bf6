/**
 * The values a token file's layout has no column for (api_domain in v2; client_secret,
 * redirect_url and api_domain in zcrmsdk), kept in memory for the life of the store so that a
 * reread of the file (another process wrote it) does not drop them. They are keyed by what
 * every layout stores and the official stores match on: user, client id and refresh token (or
 * grant token, or access token when there is neither). A column the file has always wins; a
 * kept value only fills a cell the file leaves empty.
 */
import type { OAuthToken, StoredToken, TokenField } from '../../token.js';
import { type FileLayout, missingFields } from './layouts.js';

type Kept = Partial<Record<TokenField, string | number>>;

function keyOf(token: OAuthToken): string {
  return [token.userName ?? '', token.clientId ?? '', token.refreshToken ?? token.grantToken ?? token.accessToken ?? ''].join('\u0000');
}

export class KeptFields {
  private readonly kept = new Map<string, Kept>();

  /** After a save: remembers what the layout cannot store of `token`, and forgets what `previous` had. */
  remember(layout: FileLayout, token: StoredToken, previous: StoredToken | null): void {
    if (previous) this.kept.delete(keyOf(previous));
    const values: Kept = {};
    let any = false;
    for (const field of missingFields(layout)) {
      const value = token[field];
      if (field === 'id' || value === undefined) continue;
      values[field] = value;
      any = true;
    }
    if (any) this.kept.set(keyOf(token), values);
  }

  forget(token: StoredToken): void {
    this.kept.delete(keyOf(token));
  }

  clear(): void {
    this.kept.clear();
  }

  /** Fills the freshly read tokens' empty fields with what was kept for them. */
  fill(tokens: StoredToken[]): void {
    if (this.kept.size === 0) return;
    for (const token of tokens) {
      const values = this.kept.get(keyOf(token));
      if (!values) continue;
      for (const [field, value] of Object.entries(values) as [TokenField, string | number][]) {
        if (token[field] === undefined) (token as Record<TokenField, unknown>)[field] = value;
      }
    }
  }
}
