/**
 * Which token a TokenManager call is about. A selector is turned into a cache key (cheap, on the
 * hot path) and into a store lookup (on a cache miss).
 */
import { TokenStoreError } from '../errors.js';
import type { TokenStore } from '../store.js';
import { redact, type StoredToken } from '../token.js';

export type TokenSelector = { id: string } | { userName: string } | { refreshToken: string } | { grantToken: string };

/** A cache key per selector; secrets are used as map keys in memory only, never printed. */
export function selectorKey(selector: TokenSelector): string {
  if (typeof selector === 'object' && selector !== null) {
    if ('id' in selector && typeof selector.id === 'string') return `i\u0000${selector.id}`;
    if ('userName' in selector && typeof selector.userName === 'string') return `u\u0000${selector.userName}`;
    if ('refreshToken' in selector && typeof selector.refreshToken === 'string') return `r\u0000${selector.refreshToken}`;
    if ('grantToken' in selector && typeof selector.grantToken === 'string') return `g\u0000${selector.grantToken}`;
  }
  throw new TokenStoreError('INVALID_ARGUMENT', 'Invalid token selector: use { id }, { userName }, { refreshToken } or { grantToken }');
}

/** The selector for messages: user names and ids shown, secrets redacted. */
export function describeSelector(selector: TokenSelector): string {
  if ('id' in selector) return `token id ${selector.id}`;
  if ('userName' in selector) return `user ${selector.userName}`;
  if ('refreshToken' in selector) return `refresh token ${redact(selector.refreshToken)}`;
  return `grant token ${redact(selector.grantToken)}`;
}

/** Finds the stored token a selector names (grant and refresh lookups carry the client credentials). */
export function findBySelector(
  store: TokenStore,
  selector: TokenSelector,
  client: { clientId: string; clientSecret: string },
): Promise<StoredToken | null> {
  if ('id' in selector) return store.findTokenById(selector.id);
  if ('userName' in selector) return store.findToken({ userName: selector.userName });
  const { clientId, clientSecret } = client;
  if ('refreshToken' in selector) return store.findToken({ clientId, clientSecret, refreshToken: selector.refreshToken });
  return store.findToken({ clientId, clientSecret, grantToken: selector.grantToken });
}

/** Whether a stored token is the one a selector names (ids are reused after a delete). */
export function matchesSelector(token: StoredToken, selector: TokenSelector): boolean {
  if ('id' in selector) return token.id === selector.id;
  if ('userName' in selector) return token.userName === selector.userName;
  if ('refreshToken' in selector) return token.refreshToken === selector.refreshToken;
  return token.grantToken === selector.grantToken;
}

/**
 * Whether `current` (read again by id) is still the token `known` was, and not a new token that
 * reuses a deleted one's id: same client and user, or, without a user name, the same refresh or
 * grant token. A re-authorized user keeps its identity although its refresh token changed.
 */
export function sameIdentity(known: StoredToken, current: StoredToken): boolean {
  if (known.id !== current.id || known.clientId !== current.clientId) return false;
  if (known.userName !== undefined || current.userName !== undefined) return known.userName === current.userName;
  return (
    (known.refreshToken !== undefined && known.refreshToken === current.refreshToken) ||
    (known.grantToken !== undefined && known.grantToken === current.grantToken)
  );
}
