/**
 * `zohoSdkStore(store)`: any of our TokenStores as the token store of whichever official Zoho
 * Node/TypeScript SDK the application runs: zcrmsdk 1.x, @zohocrm/nodejs-sdk-2.0/7.0/8.0, or
 * @zohocrm/typescript-sdk-2.0/2.1/6.0/7.0/8.0 (families/, one small descriptor each).
 *
 * The SDK calls its store with its own token objects and expects its own classes back (read from
 * its FileStore and DBStore); the JS SDKs also check `store instanceof` their TokenStore, so the
 * adapter is built on the very copy of the SDK the application runs (zoho-sdk/locate.ts).
 */
import { TokenStoreError } from '../errors.js';
import { storeNameOf, type TokenStore } from '../store.js';
import { adapterMethods } from './zoho-sdk/core.js';
import type { ZohoSdkFamilyName } from './zoho-sdk/families/types.js';
import { type LocateOptions, locateSdk, locateSdkAsync } from './zoho-sdk/locate.js';
import type { SdkClasses, SdkOAuthToken } from './zoho-sdk/sdk-classes.js';

export { SDK_FAMILIES } from './zoho-sdk/families/index.js';
export type { SdkFamily, ZohoSdkFamilyName } from './zoho-sdk/families/types.js';
export { SDK_PACKAGE, type SdkOAuthToken, type SdkUserSignature } from './zoho-sdk/sdk-classes.js';
export { GIVEN_ID_IS_INVALID, SDK_TOKEN_STORE_CODE } from './zoho-sdk/sdk-errors.js';

export interface ZohoSdkStoreOptions {
  /**
   * The official SDK module itself (`require('@zohocrm/typescript-sdk-8.0')`,
   * `import * as ZOHOCRMSDK from '@zohocrm/nodejs-sdk-8.0'`, or `require('zcrmsdk')`).
   */
  sdk?: unknown;
  /**
   * Where to look for the installed SDK when `sdk` is not given: a file, directory or URL inside
   * the application (e.g. `import.meta.url`, `__filename`). Default: the current directory. The
   * adapter must use the application's copy of the SDK, because the SDK checks with `instanceof`.
   */
  resolveFrom?: string | URL;
  /** Which family to use when several SDKs are installed; with `sdk`, a check that it is this one. */
  family?: ZohoSdkFamilyName;
  /** The store's name in error messages. Default `zohoSdkStore(<store class>)`. */
  name?: string;
}

interface AdapterBase {
  /** The wrapped store (close it yourself; the SDK never closes its store). */
  readonly store: TokenStore;
  /** The SDK family the adapter serves. */
  readonly family: ZohoSdkFamilyName;
}

/** The TokenStore of typescript-sdk 6/7/8 and nodejs-sdk 7/8. */
export interface ZohoSdkTokenStore extends AdapterBase {
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
}

/** The TokenStore of typescript-sdk 2.0/2.1, nodejs-sdk 2.0 and zcrmsdk 1.x (no getTokenById on zcrmsdk). */
export interface ZohoSdkLegacyTokenStore extends AdapterBase {
  /** Fills the given SDK token from the row matching the user and token; null if none matches. */
  getToken(user: object, token: object): Promise<object | null>;
  /** Fills the given SDK token from the row with this id; an unknown id throws "Given ID is invalid". */
  getTokenById?(id: string, token: object): Promise<object>;
  /** Saves the token as the user's and sets the store's id on it. */
  saveToken(user: object, token: object): Promise<void>;
  /** Deletes the row matching the token; none matching is not an error. */
  deleteToken(token: object): Promise<void>;
  getTokens(): Promise<object[]>;
  deleteTokens(): Promise<void>;
}

export type ZohoSdkLegacyFamily = 'zcrmsdk-1' | 'nodejs-2' | 'ts-2' | 'ts-2.1';

function checkStore(store: TokenStore): void {
  if (typeof store !== 'object' || store === null || typeof store.findToken !== 'function' || typeof store.saveToken !== 'function') {
    throw new TokenStoreError('INVALID_ARGUMENT', 'zohoSdkStore needs a TokenStore (e.g. new SQLiteStore()) as its first argument');
  }
}

function build(store: TokenStore, classes: SdkClasses, options: ZohoSdkStoreOptions): ZohoSdkTokenStore & ZohoSdkLegacyTokenStore {
  const name = options.name ?? `zohoSdkStore(${storeNameOf(store)})`;
  // The JS SDKs check `store instanceof TokenStore`: the adapter is an instance of the SDK's own class.
  const adapter: object = classes.TokenStore ? Reflect.construct(classes.TokenStore, []) : {};
  Object.assign(adapter, adapterMethods(store, classes, name));
  Object.defineProperties(adapter, {
    store: { value: store, enumerable: true },
    family: { value: classes.family.name, enumerable: true },
  });
  return adapter as ZohoSdkTokenStore & ZohoSdkLegacyTokenStore;
}

function locateOptions(options: ZohoSdkStoreOptions): LocateOptions {
  return { sdk: options.sdk, resolveFrom: options.resolveFrom, family: options.family };
}

/**
 * The adapter for the SDK that `options` designate (default: the one installed where the
 * current directory resolves). Synchronous: the ESM nodejs-sdk 7/8 load with require(esm),
 * which Node >= 20.19 offers; `zohoSdkStoreAsync` loads them with import().
 */
export function zohoSdkStore(store: TokenStore, options: ZohoSdkStoreOptions & { family: ZohoSdkLegacyFamily }): ZohoSdkLegacyTokenStore;
export function zohoSdkStore(store: TokenStore, options?: ZohoSdkStoreOptions): ZohoSdkTokenStore;
export function zohoSdkStore(store: TokenStore, options: ZohoSdkStoreOptions = {}): ZohoSdkTokenStore | ZohoSdkLegacyTokenStore {
  checkStore(store);
  return build(store, locateSdk(locateOptions(options)), options);
}

/** The same, loading an ESM SDK (nodejs-sdk 7/8) with import(). */
export async function zohoSdkStoreAsync(
  store: TokenStore,
  options: ZohoSdkStoreOptions & { family: ZohoSdkLegacyFamily },
): Promise<ZohoSdkLegacyTokenStore>;
export async function zohoSdkStoreAsync(store: TokenStore, options?: ZohoSdkStoreOptions): Promise<ZohoSdkTokenStore>;
export async function zohoSdkStoreAsync(
  store: TokenStore,
  options: ZohoSdkStoreOptions = {},
): Promise<ZohoSdkTokenStore | ZohoSdkLegacyTokenStore> {
  checkStore(store);
  return build(store, await locateSdkAsync(locateOptions(options)), options);
}
