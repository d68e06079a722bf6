/**
 * What differs between Zoho's official Node/TypeScript SDK families, as data: one descriptor per
 * family (this folder), read by one core (../core.ts). Facts were read from the installed packages.
 */

/** Our name for each family (its FileStore layout name is `layout`). */
export type ZohoSdkFamilyName = 'zcrmsdk-1' | 'nodejs-2' | 'nodejs-7' | 'nodejs-8' | 'ts-2' | 'ts-2.1' | 'ts-6' | 'ts-7' | 'ts-8';

/**
 * How the family's OAuthToken holds its fields:
 * - `getters`: getId()/setId(), the user as a UserSignature (getUserSignature()), getAPIDomain()
 *   (typescript-sdk 6/7/8, nodejs-sdk 7/8);
 * - `legacy-getters`: getId()/setId(), the user's email as getUserMail()/setUserMail(), no API
 *   domain (typescript-sdk 2.0/2.1, nodejs-sdk 2.0);
 * - `properties`: plain properties `clientID`, `userMail`, `expiresIn`, ..., no API domain (zcrmsdk 1.x).
 */
export type TokenShapeName = 'getters' | 'legacy-getters' | 'properties';

/** Where a class lives: a module inside the package (`''` is its main entry) and the export path in it. */
export interface ClassPath {
  file: string;
  path: readonly string[];
}

export interface SdkFamily {
  name: ZohoSdkFamilyName;
  /** The package's real npm name. */
  packageName: string;
  /** The package's module format: ESM needs `import()` (or Node's require(esm), Node >= 20.19). */
  module: 'cjs' | 'esm';
  shape: TokenShapeName;
  /**
   * The store methods the SDK calls: `token` = findToken(token), findTokenById(id), saveToken(token),
   * deleteToken(id); `user-token` = getToken(user, token), getTokenById(id, token) (when
   * `getTokenById`), saveToken(user, token), deleteToken(token). Both: getTokens(), deleteTokens().
   */
  api: 'token' | 'user-token';
  getTokenById: boolean;
  /** How the SDK reads the user out of the UserSignature it passes to a `user-token` store. */
  signatureName: { method: 'getName' | 'getEmail' } | { property: 'email' } | null;
  classes: {
    OAuthToken: ClassPath;
    UserSignature: ClassPath;
    SDKException: ClassPath;
    /** The class the SDK checks its store against with `instanceof`; absent when TokenStore is a TS interface. */
    TokenStore?: ClassPath;
  };
  /** The CSV layout its FileStore writes (FileStore's `layout` option). */
  layout: 'ts-8' | 'nodejs-8' | 'v2' | 'zcrmsdk';
  /**
   * Recognises the family from a module handed in as `{ sdk }` that require's cache cannot place:
   * the SDK's `Constants.SDK_NAME`, or the CRM API version in its Constants (nodejs-sdk has no SDK_NAME).
   */
  marker: { sdkName: string } | { crmApi: string } | null;
  /** Oldest major version of the package that is this family (zcrmsdk 0.x is another SDK). */
  minMajor: number;
}

/** The main entry's export `name`. */
export function mainExport(...path: string[]): ClassPath {
  return { file: '', path };
}

/** Export `name` of the module at `file` inside the package. */
export function fileExport(file: string, name: string): ClassPath {
  return { file, path: [name] };
}
