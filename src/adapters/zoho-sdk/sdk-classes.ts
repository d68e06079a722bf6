/**
 * The official SDK's own classes, taken from the copy the application runs. Every SDK checks
 * tokens (and the JS SDKs their store) with `instanceof` against its own classes, so the adapter
 * never uses a copy of its own. `locate.ts` finds which family is installed; this file pulls
 * the classes out of its modules and checks that they are what the family descriptor says.
 */
import { TokenStoreError } from '../../errors.js';
import type { ClassPath, SdkFamily } from './families/types.js';

/** The default SDK, named in messages of today's API. */
export const SDK_PACKAGE = '@zohocrm/typescript-sdk-8.0';

/** The SDK's UserSignature (typescript-sdk 6+ and nodejs-sdk 7+): the user's name, `email:zgid` when the SDK derives it. */
export interface SdkUserSignature {
  getName(): string;
}

/**
 * The OAuthToken of typescript-sdk 6/7/8 and nodejs-sdk 7/8 as the adapter uses it: Zoho's getters
 * and setters (`getExpiresIn` is absolute epoch ms as a string of digits), plus the Token methods
 * the SDK's TokenStore interface names, so results type-check where the SDK expects its tokens.
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
  family: SdkFamily;
  OAuthToken: new (...args: never[]) => object;
  UserSignature: new (name: string) => object;
  SDKException: new (code: string | null, message: string | null, details?: unknown, cause?: unknown) => Error;
  /** The class the SDK checks its store against, for the JS SDKs. */
  TokenStore?: new () => object;
  /** The installed package's version, for messages. */
  version: string;
  /** Where it was loaded from, for messages. */
  location: string;
}

/** Loads one module of the package: `''` is its main entry, else a path inside the package. */
export type ModuleLoader = (file: string) => unknown;

/** Methods (or accessors) a token class of each shape has: a cheap check that the family is the one we think. */
const SHAPE_PROBES = {
  getters: ['getUserSignature', 'setExpiresIn', 'getAPIDomain'],
  'legacy-getters': ['getUserMail', 'setExpiresIn', 'getId'],
  properties: ['userMail', 'expiresIn', 'authenticate'],
} as const;

function pick(module: unknown, path: readonly string[]): unknown {
  let value = module;
  for (const key of path) value = (value as Record<string, unknown> | null | undefined)?.[key];
  return value;
}

/** The class at `where`, or undefined when that export is not a class. */
function classAt(load: ModuleLoader, where: ClassPath): unknown {
  const value = pick(load(where.file), where.path);
  return typeof value === 'function' ? value : undefined;
}

/** Whether a token class has its shape's methods. */
export function hasShape(family: SdkFamily, oauthToken: unknown): boolean {
  const proto = (oauthToken as { prototype?: object } | undefined)?.prototype;
  return typeof proto === 'object' && proto !== null && SHAPE_PROBES[family.shape].every((m) => m in proto);
}

/** The family's classes from its modules; an unrecognised package is named with what is missing. */
export function classesOf(family: SdkFamily, load: ModuleLoader, version: string, location: string): SdkClasses {
  const found: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const [name, where] of Object.entries(family.classes)) {
    const cls = classAt(load, where);
    if (cls === undefined) missing.push(`${name} (${[where.file || 'main entry', ...where.path].join(' → ')})`);
    found[name] = cls;
  }
  if (missing.length === 0 && !hasShape(family, found.OAuthToken))
    missing.push(`OAuthToken methods ${SHAPE_PROBES[family.shape].join(', ')}`);
  if (missing.length > 0) {
    throw new TokenStoreError(
      'UNAVAILABLE',
      `zohoSdkStore does not recognise ${family.packageName} ${version} at ${location} as the ${family.name} family: it lacks ${missing.join('; ')}`,
    );
  }
  return { ...(found as Omit<SdkClasses, 'family' | 'version' | 'location'>), family, version, location };
}
