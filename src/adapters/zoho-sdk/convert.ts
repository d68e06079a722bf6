/**
 * The one place where the SDK's OAuthToken and our plain OAuthToken (src/token.ts) meet.
 * Field for field: the SDK's user signature is our `userName`, its `expiresIn` (epoch ms as a
 * string of digits) our numeric `expiryTime`. Nulls and empty strings mean "absent" on both sides.
 */
import { TokenStoreError } from '../../errors.js';
import { normalizeToken, type OAuthToken, parseExpiry, type StoredToken } from '../../token.js';
import type { SdkClasses, SdkOAuthToken } from './sdk-classes.js';

type TextField = 'id' | 'clientId' | 'clientSecret' | 'refreshToken' | 'accessToken' | 'grantToken' | 'redirectUrl' | 'apiDomain';

/** Our text fields and the SDK's getter and setter of each. */
const TEXT_ACCESSORS: readonly [TextField, keyof SdkOAuthToken, keyof SdkOAuthToken][] = [
  ['id', 'getId', 'setId'],
  ['clientId', 'getClientId', 'setClientId'],
  ['clientSecret', 'getClientSecret', 'setClientSecret'],
  ['refreshToken', 'getRefreshToken', 'setRefreshToken'],
  ['accessToken', 'getAccessToken', 'setAccessToken'],
  ['grantToken', 'getGrantToken', 'setGrantToken'],
  ['redirectUrl', 'getRedirectURL', 'setRedirectURL'],
  ['apiDomain', 'getAPIDomain', 'setAPIDomain'],
];

const REQUIRED_METHODS = [
  ...TEXT_ACCESSORS.flatMap(([, get, set]) => [get, set]),
  'getUserSignature',
  'setUserSignature',
  'getExpiresIn',
  'setExpiresIn',
];

function isAbsent(value: unknown): value is null | undefined | '' {
  return value === null || value === undefined || value === '';
}

function call(token: SdkOAuthToken, method: keyof SdkOAuthToken, ...args: unknown[]): unknown {
  return (token[method] as (...a: unknown[]) => unknown).apply(token, args);
}

/** Checks that a value handed in by the SDK is its OAuthToken (by its methods, not its class). */
export function asSdkToken(value: unknown): SdkOAuthToken {
  const candidate = value as Record<string, unknown> | null;
  const missing = REQUIRED_METHODS.filter((m) => typeof candidate?.[m] !== 'function');
  if (typeof value !== 'object' || value === null || missing.length > 0) {
    const got = value === null ? 'null' : typeof value === 'object' ? `an object without ${missing.slice(0, 3).join(', ')}` : typeof value;
    throw new TokenStoreError('INVALID_TOKEN', `Invalid token: expected the Zoho SDK's OAuthToken, got ${got}`);
  }
  return value as SdkOAuthToken;
}

/** The user name in an SDK token's user signature, or undefined. */
function userNameOf(token: SdkOAuthToken): string | undefined {
  const signature = token.getUserSignature();
  if (isAbsent(signature)) return undefined;
  const name = typeof signature.getName === 'function' ? signature.getName() : undefined;
  if (isAbsent(name)) return undefined;
  if (typeof name !== 'string') {
    throw new TokenStoreError('INVALID_TOKEN', `Invalid token: userName (the SDK's user signature) must be a string, got ${typeof name}`, {
      field: 'userName',
    });
  }
  return name;
}

/** The SDK's expiresIn (epoch ms as digits) as our expiryTime; the error names both. */
function parseSdkExpiry(expiresIn: unknown): number {
  try {
    return parseExpiry(expiresIn);
  } catch (error) {
    if (!(error instanceof TokenStoreError)) throw error;
    throw new TokenStoreError(error.reason, `${error.message} (the SDK token's expiresIn)`, { field: 'expiryTime' });
  }
}

/** Our plain token from an SDK token, validated by token.ts (fields named, values never shown). */
export function fromSdkToken(token: SdkOAuthToken): OAuthToken {
  const plain: Record<string, unknown> = {};
  for (const [field, get] of TEXT_ACCESSORS) {
    const value = call(token, get);
    if (!isAbsent(value)) plain[field] = value;
  }
  const userName = userNameOf(token);
  if (userName !== undefined) plain.userName = userName;
  const expiresIn = token.getExpiresIn();
  if (!isAbsent(expiresIn)) plain.expiryTime = parseSdkExpiry(expiresIn);
  return normalizeToken(plain);
}

/** Sets every field of `stored` that the SDK token lacks; what the SDK token holds wins. */
export function fillSdkToken(target: SdkOAuthToken, stored: OAuthToken, classes: SdkClasses): SdkOAuthToken {
  for (const [field, get, set] of TEXT_ACCESSORS) {
    const value = stored[field];
    if (value !== undefined && isAbsent(call(target, get))) call(target, set, value);
  }
  if (stored.userName !== undefined && isAbsent(target.getUserSignature())) {
    target.setUserSignature(new classes.UserSignature(stored.userName));
  }
  if (stored.expiryTime !== undefined && isAbsent(target.getExpiresIn())) target.setExpiresIn(String(stored.expiryTime));
  return target;
}

/** A new SDK OAuthToken (of the application's SDK) holding a stored token. */
export function toSdkToken(stored: StoredToken, classes: SdkClasses): SdkOAuthToken {
  // As the SDK's own stores do: an empty instance, then the stored fields.
  return fillSdkToken(Reflect.construct(classes.OAuthToken, []), stored, classes);
}

const SECRET_GETTERS = ['getClientSecret', 'getRefreshToken', 'getAccessToken', 'getGrantToken'] as const;

/** The secrets an SDK token holds, for scrubbing error texts; safe on anything, even a non-token. */
export function secretsOfSdkToken(token: unknown): string[] {
  const out: string[] = [];
  for (const getter of SECRET_GETTERS) {
    try {
      const value = (token as Record<string, unknown> | null)?.[getter];
      const secret = typeof value === 'function' ? (value as () => unknown).call(token) : undefined;
      if (typeof secret === 'string' && secret !== '') out.push(secret);
    } catch {
      // A broken getter has no secret to give.
    }
  }
  return out;
}
