/**
 * Error classes with stable codes. Every message names what is wrong and, for files and
 * databases, where. No message ever carries a whole secret: callers pass secrets through
 * `redact()` (token.ts) before building a message.
 */

/** Base class: `code` is stable and safe to switch on; `reason` narrows it. */
export class ZTokenError extends Error {
  readonly code: string;
  readonly reason: string;
  constructor(code: string, reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
  }
}

export type TokenStoreReason =
  | 'INVALID_TOKEN' // a token handed in by a caller is malformed (names the field)
  | 'INVALID_ARGUMENT' // an id, option, table name, prefix or path is malformed
  | 'NOT_FOUND' // an operation needed a token that is not stored
  | 'UNAVAILABLE' // the store cannot be reached or opened (names where)
  | 'CORRUPT' // stored data cannot be parsed (names file and line, or table)
  | 'WRITE_FAILED' // a write failed; what was stored before is intact
  | 'LOCK_TIMEOUT' // a cross-process lock could not be taken in time
  | 'CRYPTO' // a value cannot be decrypted or a key is missing
  | 'CLOSED'; // the store was used after close()

/** Any failure of a token store, in the spirit of Zoho's SDKException(code 'TOKEN_STORE'). */
export class TokenStoreError extends ZTokenError {
  declare readonly reason: TokenStoreReason;
  /** The offending field of a token, when there is one (e.g. 'expiryTime'). */
  readonly field: string | undefined;
  constructor(reason: TokenStoreReason, message: string, options?: { cause?: unknown; field?: string }) {
    super('TOKEN_STORE', reason, message, options);
    this.field = options?.field;
  }
}

/**
 * Whether a store refused an id as one it cannot hold (validateId's INVALID_ARGUMENT on field
 * 'id': too long for its id column, or a malformed id). Callers that copy or adapt tokens ask the
 * store this way instead of guessing its id width.
 */
export function isIdRefusal(error: unknown): error is TokenStoreError {
  return error instanceof TokenStoreError && error.reason === 'INVALID_ARGUMENT' && error.field === 'id';
}

/** Zoho's accounts server refused a request (bad grant code, bad client, bad redirect...). */
export class ZohoOAuthError extends ZTokenError {
  /** Zoho's own error string, e.g. 'invalid_code'. */
  readonly zohoError: string;
  readonly status: number;
  constructor(zohoError: string, status: number, message: string, options?: { cause?: unknown }) {
    super('ZOHO_OAUTH', zohoError, message, options);
    this.zohoError = zohoError;
    this.status = status;
  }
}

/**
 * Zoho throttled the token endpoint ("Access Denied": too many access tokens from one refresh
 * token in 10 minutes). Not a bad credential: back off and keep using a still-valid token.
 */
export class ZohoThrottleError extends ZTokenError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super('ZOHO_THROTTLED', 'THROTTLED', message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

export type ZohoNetworkReason = 'TIMEOUT' | 'CONNECTION_REFUSED' | 'BAD_RESPONSE' | 'NETWORK';

/** Zoho could not be reached, did not answer in time, or answered something unreadable. */
export class ZohoNetworkError extends ZTokenError {
  declare readonly reason: ZohoNetworkReason;
  constructor(reason: ZohoNetworkReason, message: string, options?: { cause?: unknown }) {
    super('ZOHO_NETWORK', reason, message, options);
  }
}

/** Zoho rejected the refresh token: the user must authorize again. Nothing stored was lost. */
export class ReauthorizationRequiredError extends ZTokenError {
  readonly tokenId: string | undefined;
  constructor(message: string, tokenId: string | undefined, options?: { cause?: unknown }) {
    super('REAUTHORIZATION_REQUIRED', 'REAUTHORIZATION_REQUIRED', message, options);
    this.tokenId = tokenId;
  }
}

export type UntrustedHostReason =
  | 'API_DOMAIN' // a token's apiDomain names a host that is not a Zoho API host (nor an override)
  | 'ACCOUNTS_SERVER' // an accounts server that is not in the data-center table (nor an override)
  | 'API_URL'; // fetch() was asked to send an access token to a host outside the token's DC

/**
 * A host read from a store, a redirect or a caller is not one we may send a secret to. Raised
 * before any request is made; nothing stored is changed.
 */
export class UntrustedHostError extends ZTokenError {
  declare readonly reason: UntrustedHostReason;
  /** The refused value, cut short (it is a host, not a secret, but it may be long). */
  readonly host: string;
  constructor(reason: UntrustedHostReason, host: string, message: string) {
    super('UNTRUSTED_HOST', reason, message);
    this.host = host;
  }
}

/**
 * A grant exchange answered no refresh token: the login asked for online access (Zoho's default)
 * or the user had consented before without `prompt=consent`. Nothing was stored.
 */
export class NoRefreshTokenError extends ZTokenError {
  /** An authorization URL with `access_type=offline&prompt=consent` to log in with instead. */
  readonly loginUrl: string;
  constructor(message: string, loginUrl: string) {
    super('NO_REFRESH_TOKEN', 'NO_REFRESH_TOKEN', message);
    this.loginUrl = loginUrl;
  }
}

/** Zoho answered `invalid_code` to a grant exchange: the code expired (3 minutes) or was already used. */
export class GrantSpentError extends ZohoOAuthError {
  /** The stored token this grant was already exchanged into, when there is one. */
  readonly existingTokenId: string | undefined;
  constructor(status: number, message: string, existingTokenId: string | undefined, options?: { cause?: unknown }) {
    super('invalid_code', status, message, options);
    this.existingTokenId = existingTokenId;
  }
}

/**
 * The device flow ended without a token: the user denied it (`DENIED`), the user code expired
 * before anyone approved it (`EXPIRED`), or the caller aborted (`ABORTED`).
 */
export class DeviceFlowError extends ZTokenError {
  constructor(reason: 'DENIED' | 'EXPIRED' | 'ABORTED', message: string, options?: { cause?: unknown }) {
    super('DEVICE_FLOW', reason, message, options);
  }
}
