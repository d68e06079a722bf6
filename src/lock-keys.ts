/**
 * Names of the store locks that different parts of the library must agree on: the TokenManager
 * refreshes and revokes a token under its refresh lock, and EncryptedStore.rotateKeys rewrites a
 * token under the same lock, so none of them overwrites another's write.
 */
import { createHash } from 'node:crypto';

/** The lock held while a token is refreshed, revoked or re-encrypted. */
export function refreshLockKey(clientId: string | undefined, tokenId: string): string {
  return `ztoken:refresh:${clientId ?? ''}:${tokenId}`;
}

/** The lock held while a grant token is exchanged (a hash: the code itself is a secret). */
export function grantLockKey(clientId: string, grantToken: string): string {
  return `ztoken:grant:${clientId}:${createHash('sha256').update(grantToken).digest('hex').slice(0, 32)}`;
}
