/** zoho-token-store: public exports only. */
export {
  ReauthorizationRequiredError,
  TokenStoreError,
  type TokenStoreReason,
  ZohoApiError,
  ZohoNetworkError,
  type ZohoNetworkReason,
  ZohoOAuthError,
  ZohoThrottleError,
  ZTokenError,
} from './errors.js';
export {
  compareIds,
  isExpired,
  matchRule,
  type OAuthToken,
  redact,
  redactToken,
  type StoredToken,
  TOKEN_FIELDS,
} from './token.js';
export { type LockingTokenStore, supportsLocking, type TokenStore } from './store.js';
export { MemoryStore } from './stores/memory.js';
export { ListStore } from './stores/list.js';
export { SQLiteStore, type SQLiteStoreOptions } from './stores/sqlite.js';
export { DEFAULT_STORE_URL, describeStoreUrl, openStore, type OpenStoreOptions, SUPPORTED_SCHEMES } from './stores/url.js';
export { type Logger, TokenManager, type TokenManagerOptions } from './manager/token-manager.js';
export type { TokenSelector } from './manager/selector.js';
export type { TokenEventInfo, TokenManagerEvents } from './manager/events.js';
export { AccountsClient, type AccountsClientOptions, type TokenGrant } from './zoho/accounts.js';
export { accountsUrlFor, apiDomainFor, type DataCenter, type Environment } from './zoho/datacenter.js';
export { type Emulator, type EmulatorOptions, startEmulator } from './zoho/emulator/index.js';
