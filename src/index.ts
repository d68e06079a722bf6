/** zoho-token-store: public exports only. */
// The public .d.ts names Node types (Buffer, NodeJS.ProcessEnv): load @types/node for the app, as TS 7 no longer does on its own.
/// <reference types="node" preserve="true" />
export {
  ReauthorizationRequiredError,
  TokenStoreError,
  type TokenStoreReason,
  UntrustedHostError,
  type UntrustedHostReason,
  ZohoNetworkError,
  type ZohoNetworkReason,
  ZohoOAuthError,
  DeviceFlowError,
  ZohoThrottleError,
  ZTokenError,
} from './errors.js';
export {
  COLUMN_NAMES,
  compareIds,
  isExpired,
  type LookupField,
  locateForSave,
  locateForSaveAsync,
  lookupRuleOf,
  type MatchRule,
  matchRule,
  nextId,
  nextIdAfter,
  normalizeToken,
  normalizeTokenForSave,
  type OAuthToken,
  redact,
  redactToken,
  scrubSecrets,
  type StoredToken,
  TOKEN_FIELDS,
  tokenToStore,
  validateId,
} from './token.js';
export { rowToToken, type TokenRow, tokenToRow } from './row.js';
export {
  type LockingTokenStore,
  type ReauthMarkStore,
  supportsLocking,
  supportsReauthMarks,
  type TokenStore,
} from './store.js';
export { hashRefreshToken, isStaleReauthMark, liveReauthMarks, type ReauthMark } from './reauth-marks.js';
export { ClosedGuard } from './stores/closed.js';
export { MemoryStore } from './stores/memory.js';
export { ListStore } from './stores/list.js';
export { SQLiteStore, type SQLiteStoreOptions } from './stores/sqlite.js';
export { FileStore, type FileStoreOptions } from './stores/file.js';
export { DBStore, type DBStoreOptions } from './stores/mysql.js';
export { PostgresStore, type PostgresStoreOptions } from './stores/postgres.js';
export { RedisStore, type RedisStoreOptions } from './stores/redis.js';
export type { IoRedisOptions, RedisClientLike } from './stores/redis/public-types.js';
export { EncryptedStore, type EncryptedStoreOptions } from './crypto/encrypted-store.js';
export { type EncryptionKey, generateKey, KEYS_ENV_VAR, loadKeysFromEnv, loadKeysFromFile } from './crypto/keys.js';
export {
  DEFAULT_STORE_URL,
  describeStoreUrl,
  isEncryptedStoreUrl,
  KEY_FILE_ENV_VAR,
  openStore,
  type OpenStoreOptions,
  SUPPORTED_SCHEMES,
} from './stores/url.js';
export {
  type AuthorizeInput,
  type Logger,
  type ManagerFetchInit,
  TokenManager,
  type TokenManagerOptions,
} from './manager/token-manager.js';
export type { TokenSelector } from './manager/selector.js';
export type { TokenEventInfo, TokenManagerEvents } from './manager/events.js';
export { AccountsClient, type AccountsClientOptions, type TokenGrant } from './zoho/accounts.js';
export {
  accountsUrlFor,
  apiDomainFor,
  DATA_CENTERS,
  type DataCenter,
  dataCenterOfApiDomain,
  type Environment,
  parseDataCenter,
} from './zoho/datacenter.js';
export { type DataCenterUrlOverrides, type DataCenterUrls, type TokenLocation, ZohoHosts, type ZohoHostsOptions } from './zoho/hosts.js';
export { apiBaseFor, PRODUCTS_LIST, type ZohoProduct } from './zoho/products.js';
export {
  DEFAULT_CLIENT as EMULATOR_CLIENT,
  DEFAULT_USERS as EMULATOR_USERS,
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from './zoho/emulator/index.js';
