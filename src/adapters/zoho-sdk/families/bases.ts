/**
 * What families of one generation share, so each family file says only what is its own.
 * Paths and method names were read from the installed packages.
 */
import { type ClassPath, fileExport, mainExport, type SdkFamily } from './types.js';

type Base = Omit<SdkFamily, 'name' | 'packageName' | 'marker' | 'signatureName'>;

/** typescript-sdk 6/7/8: CommonJS, every class on the main entry, TokenStore a TS interface (no instanceof). */
export const TYPESCRIPT_V6: Base = {
  module: 'cjs',
  shape: 'getters',
  api: 'token',
  getTokenById: true,
  classes: { OAuthToken: mainExport('OAuthToken'), UserSignature: mainExport('UserSignature'), SDKException: mainExport('SDKException') },
  layout: 'ts-8',
  minMajor: 1,
};

/** nodejs-sdk 7/8: ESM, the TypeScript SDK's methods, but a TokenStore class checked with instanceof. */
export const NODEJS_V7: Base = {
  ...TYPESCRIPT_V6,
  module: 'esm',
  classes: { ...TYPESCRIPT_V6.classes, TokenStore: mainExport('TokenStore', 'TokenStore') },
  layout: 'nodejs-8',
};

/** The 2.0-era file tree (nodejs-sdk-2.0, typescript-sdk-2.0, zcrmsdk 1.x): the main entry exports Initializer only. */
const V2_FILES = {
  OAuthToken: fileExport('models/authenticator/oauth_token.js', 'OAuthToken'),
  UserSignature: fileExport('routes/user_signature.js', 'UserSignature'),
  SDKException: fileExport('core/com/zoho/crm/api/exception/sdk_exception.js', 'SDKException'),
  TokenStore: fileExport('models/authenticator/store/token_store.js', 'TokenStore'),
} satisfies Record<string, ClassPath>;

/** The v2 store API: getToken(user, token), getTokenById(id, token), saveToken(user, token), deleteToken(token). */
export const V2: Base = {
  module: 'cjs',
  shape: 'legacy-getters',
  api: 'user-token',
  getTokenById: true,
  classes: V2_FILES,
  layout: 'v2',
  minMajor: 1,
};

export { V2_FILES };
