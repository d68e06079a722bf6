/**
 * The official SDK's own classes, loaded lazily from the user's installed
 * `@zohocrm/typescript-sdk-8.0` (an optional peer dependency). The SDK checks
 * `token instanceof OAuthToken` against its own class, so the adapter must build its tokens from
 * the very copy of the SDK the application runs, never from a copy of its own.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { TokenStoreError } from '../../errors.js';

export const SDK_PACKAGE = '@zohocrm/typescript-sdk-8.0';

/** The SDK's UserSignature: the user's name, `email:zgid` when the SDK derives it. */
export interface SdkUserSignature {
  getName(): string;
}

/**
 * The SDK's OAuthToken as the adapter uses it: Zoho's getters and setters (`getExpiresIn` is
 * absolute epoch ms as a string of digits), plus the Token methods the SDK's TokenStore
 * interface names, so the adapter's results type-check where the SDK expects its tokens.
 */
export interface SdkOAuthToken {
  getId(): string | null;
  setId(id: string | null): void;
  getUserSignature(): SdkUserSignature | null;
  setUserSignature(userSignature: SdkUserSignature | null): void;
  getClientId(): string | null;
  setClientId(clientId: string): void;
  getClientSecret(): string | null;
  setClientSecret(clientSecret: string): void;
  getRefreshToken(): string | null;
  setRefreshToken(refreshToken: string | null): void;
  getAccessToken(): string | null;
  setAccessToken(accessToken: string | null): void;
  getGrantToken(): string | null;
  setGrantToken(grantToken: string | null): void;
  getExpiresIn(): string;
  setExpiresIn(expiresIn: string): void;
  getRedirectURL(): string | null;
  setRedirectURL(redirectUrl: string | null): void;
  getAPIDomain(): string | null;
  setAPIDomain(apiDomain: string | null): void;
  generateToken(): Promise<void>;
  authenticate(urlConnection: unknown): Promise<void>;
  remove(): Promise<boolean>;
  revoke(id: string): Promise<boolean | undefined>;
}

export interface SdkClasses {
  OAuthToken: new () => SdkOAuthToken;
  UserSignature: new (name: string) => SdkUserSignature;
  SDKException: new (code: string | null, message: string | null, details?: unknown, cause?: unknown) => Error;
  /** The installed SDK's version, for error messages. */
  version: string;
}

const cache = new Map<string, SdkClasses>();

/**
 * Loads the SDK's OAuthToken, UserSignature and SDKException from its public entry point.
 * `resolveFrom` (a file path or URL inside the application) picks which installed copy; by
 * default the copy next to this package, then the one of the current directory.
 */
export function loadSdkClasses(resolveFrom?: string | URL): SdkClasses {
  const bases = resolveFrom !== undefined ? [resolveFrom] : [import.meta.url, pathToFileURL(`${process.cwd()}/`)];
  let entry: string | undefined;
  let require: NodeJS.Require | undefined;
  for (const base of bases) {
    const candidate = createRequire(base);
    try {
      entry = candidate.resolve(SDK_PACKAGE);
      require = candidate;
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  if (entry === undefined || require === undefined) {
    const where = resolveFrom !== undefined ? ` from ${String(resolveFrom)}` : '';
    throw new TokenStoreError(
      'UNAVAILABLE',
      `zohoSdkStore needs the official Zoho CRM SDK, which cannot be found${where}: npm install ${SDK_PACKAGE}`,
    );
  }
  const cached = cache.get(entry);
  if (cached) return cached;
  const sdk = require(entry) as Record<string, unknown>;
  const version = readVersion(require);
  const classes = {
    OAuthToken: sdk.OAuthToken,
    UserSignature: sdk.UserSignature,
    SDKException: sdk.SDKException,
    version,
  } as SdkClasses;
  const proto = (classes.OAuthToken as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (
    typeof classes.OAuthToken !== 'function' ||
    typeof classes.UserSignature !== 'function' ||
    typeof classes.SDKException !== 'function' ||
    typeof proto?.getUserSignature !== 'function' ||
    typeof proto.setExpiresIn !== 'function'
  ) {
    throw new TokenStoreError(
      'UNAVAILABLE',
      `zohoSdkStore does not recognise ${SDK_PACKAGE} ${version} at ${entry}: it needs the SDK's OAuthToken, UserSignature and SDKException (SDK 3.x)`,
    );
  }
  cache.set(entry, classes);
  return classes;
}

function readVersion(require: NodeJS.Require): string {
  try {
    return String((require(`${SDK_PACKAGE}/package.json`) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}
