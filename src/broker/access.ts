/**
 * Which tokens a key may read. A selector is checked before any store access when the answer is
 * already certain (a granted id or user, or a key that could not match at all); when a key grants
 * ids and the selector names a user (or the other way round), the token is looked up and checked.
 */
import type { StoredToken } from '../token.js';
import type { BrokerKey } from './keys-file.js';

/** The selectors a broker answers: never one made of a secret (refresh or grant token). */
export type BrokerSelector = { id: string } | { userName: string };

export type PreCheck = 'granted' | 'denied' | 'check-token';

export function preCheck(key: BrokerKey, selector: BrokerSelector): PreCheck {
  const { all, ids, users } = key.grants;
  if (all) return 'granted';
  if ('id' in selector) {
    if (ids.includes(selector.id)) return 'granted';
    return users.length > 0 ? 'check-token' : 'denied';
  }
  if (users.includes(selector.userName)) return 'granted';
  return ids.length > 0 ? 'check-token' : 'denied';
}

export function grantsToken(key: BrokerKey, token: StoredToken): boolean {
  const { all, ids, users } = key.grants;
  return all || ids.includes(token.id) || (token.userName !== undefined && users.includes(token.userName));
}

/** A selector for logs and metrics: ids and user names are not secrets. */
export function describeBrokerSelector(selector: BrokerSelector): string {
  return 'id' in selector ? `id:${selector.id}` : `user:${selector.userName}`;
}
