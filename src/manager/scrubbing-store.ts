/**
 * The store as TokenManager calls it: the same store, except that a failure which is not one of
 * ours (a custom store's error echoing a token, say) reaches the caller as a scrubbed
 * TokenStoreError (stores/foreign-errors.ts). Errors thrown by a withLock callback are the
 * manager's own (Zoho's answer to a refresh, say) and pass through untouched.
 */
import { type ReauthMarkStore, storeNameOf, supportsLocking, supportsReauthMarks, type TokenStore } from '../store.js';
import { foreignStoreError } from '../stores/foreign-errors.js';
import { type OAuthToken, secretsOf } from '../token.js';

export function scrubbingStore(store: TokenStore, clientSecret: string): TokenStore {
  const name = storeNameOf(store);
  async function call<T>(operation: string, token: OAuthToken | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw foreignStoreError(error, operation, name, [clientSecret, ...secretsOf(token)]);
    }
  }
  const scrubbing: TokenStore & Partial<ReauthMarkStore> = {
    findToken: (partial) => call('findToken', partial, () => store.findToken(partial)),
    saveToken: (token) => call('saveToken', token, () => store.saveToken(token)),
    deleteToken: (id) => call('deleteToken', undefined, () => store.deleteToken(id)),
    getTokens: () => call('getTokens', undefined, () => store.getTokens()),
    deleteTokens: () => call('deleteTokens', undefined, () => store.deleteTokens()),
    findTokenById: (id) => call('findTokenById', undefined, () => store.findTokenById(id)),
    close: () => call('close', undefined, () => store.close()),
  };
  if (supportsLocking(store)) {
    scrubbing.withLock = async <T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> => {
      const own: { error?: unknown } = {};
      try {
        return await store.withLock(key, ttlMs, async () => {
          try {
            return await fn();
          } catch (error) {
            own.error = error;
            throw error;
          }
        });
      } catch (error) {
        if ('error' in own && own.error === error) throw error;
        throw foreignStoreError(error, 'withLock', name, [clientSecret]);
      }
    };
  }
  if (supportsReauthMarks(store)) {
    scrubbing.setReauthMark = (mark) => call('setReauthMark', undefined, () => store.setReauthMark(mark));
    scrubbing.getReauthMark = (tokenId) => call('getReauthMark', undefined, () => store.getReauthMark(tokenId));
    scrubbing.getReauthMarks = () => call('getReauthMarks', undefined, () => store.getReauthMarks());
    scrubbing.clearReauthMark = (tokenId) => call('clearReauthMark', undefined, () => store.clearReauthMark(tokenId));
  }
  return scrubbing;
}
