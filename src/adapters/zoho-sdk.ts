/**
 * `zohoSdkStore(store)`: any of our TokenStores as the official `@zohocrm/typescript-sdk-8.0`'s
 * TokenStore, for `new InitializeBuilder().store(zohoSdkStore(store))`.
 *
 * The SDK calls its store with its own OAuthToken objects and expects (read from its FileStore
 * and DBStore): `findToken(token)` fills the token it is given from the matching row and returns
 * it, or null; `findTokenById(id)` returns a new SDK OAuthToken and throws "Given ID is invalid"
 * for an unknown id; `saveToken(token)` keeps the stored values of fields the token lacks and
 * sets the id on the token; `getTokens()` returns SDK OAuthTokens. Matching, ids and validation
 * stay in the wrapped store (src/token.ts rules); every failure reaches the SDK as its
 * SDKException with code 'TOKEN_STORE' and our TokenStoreError as the cause.
 */
import { TokenStoreError } from '../errors.js';
import { storeNameOf, type TokenStore } from '../store.js';
import { asSdkToken, fillSdkToken, fromSdkToken, secretsOfSdkToken, toSdkToken } from './zoho-sdk/convert.js';
import { loadSdkClasses, type SdkClasses, type SdkOAuthToken } from './zoho-sdk/sdk-classes.js';
import { GIVEN_ID_IS_INVALID, sdkException, toSdkException } from './zoho-sdk/sdk-errors.js';

export { SDK_PACKAGE, type SdkOAuthToken, type SdkUserSignature } from './zoho-sdk/sdk-classes.js';
export { GIVEN_ID_IS_INVALID, SDK_TOKEN_STORE_CODE } from './zoho-sdk/sdk-errors.js';

export interface ZohoSdkStoreOptions {
  /**
   * Where to look for the installed SDK: a file path or URL inside the application (e.g.
   * `import.meta.url`). Default: next to this package, then the current directory. The adapter
   * must use the same copy of the SDK as the application, because the SDK checks its tokens
   * with `instanceof`.
   */
  resolveFrom?: string | URL;
  /** The store's name in error messages. Default `zohoSdkStore(<store class>)`. */
  name?: string;
}

/** The SDK's TokenStore interface, implemented over one of our stores. */
export interface ZohoSdkTokenStore {
  /** Fills the given SDK token from the matching stored token and returns it; null if none matches. */
  findToken(token: object): Promise<SdkOAuthToken | null>;
  /** A new SDK token for the id; an unknown id throws SDKException "Given ID is invalid". */
  findTokenById(id: string): Promise<SdkOAuthToken>;
  /** Saves (fields the token lacks keep their stored values) and sets the id on the given token. */
  saveToken(token: object): Promise<void>;
  /** Deletes one token; an unknown id is not an error (as the SDK's DBStore). */
  deleteToken(id: string): Promise<void>;
  /** Every stored token as an SDK OAuthToken, ordered by id. */
  getTokens(): Promise<SdkOAuthToken[]>;
  deleteTokens(): Promise<void>;
  /** The wrapped store (close it yourself; the SDK never closes its store). */
  readonly store: TokenStore;
}

export function zohoSdkStore(store: TokenStore, options: ZohoSdkStoreOptions = {}): ZohoSdkTokenStore {
  if (typeof store !== 'object' || store === null || typeof store.findToken !== 'function' || typeof store.saveToken !== 'function') {
    throw new TokenStoreError('INVALID_ARGUMENT', 'zohoSdkStore needs a TokenStore (e.g. new SQLiteStore()) as its first argument');
  }
  const classes: SdkClasses = loadSdkClasses(options.resolveFrom);
  const name = options.name ?? `zohoSdkStore(${storeNameOf(store)})`;

  /** Runs one SDK call, turning every failure into the SDK's SDKException (scrubbed of `token`'s secrets). */
  async function run<T>(operation: string, token: unknown, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toSdkException(classes, error, operation, name, secretsOfSdkToken(token));
    }
  }

  return {
    store,

    findToken(token) {
      return run('findToken', token, async () => {
        const sdkToken = asSdkToken(token);
        const found = await store.findToken(fromSdkToken(sdkToken));
        return found ? fillSdkToken(sdkToken, found, classes) : null;
      });
    },

    findTokenById(id) {
      return run('getTokenById', null, async () => {
        const found = await store.findTokenById(id);
        if (!found)
          throw sdkException(
            classes,
            `Exception in getTokenById - ${name} : ${GIVEN_ID_IS_INVALID} (no token has id ${JSON.stringify(id)})`,
          );
        return toSdkToken(found, classes);
      });
    },

    saveToken(token) {
      return run('saveToken', token, async () => {
        const sdkToken = asSdkToken(token);
        const plain = fromSdkToken(sdkToken);
        // Like the SDK's own stores, a field the SDK token lacks keeps its stored value.
        const existing = (plain.id !== undefined ? await store.findTokenById(plain.id) : null) ?? (await store.findToken(plain));
        const saved = await store.saveToken(existing ? { ...existing, ...plain } : plain);
        sdkToken.setId(saved.id);
        fillSdkToken(sdkToken, saved, classes);
      });
    },

    deleteToken(id) {
      return run('deleteToken', null, () => store.deleteToken(id));
    },

    getTokens() {
      return run('getTokens', null, async () => (await store.getTokens()).map((t) => toSdkToken(t, classes)));
    },

    deleteTokens() {
      return run('deleteTokens', null, () => store.deleteTokens());
    },
  };
}
