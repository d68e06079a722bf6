/**
 * The official SDKs installed as dev dependencies under npm aliases, and, per family, how an
 * application builds its tokens and users (from each SDK's README and sources). This file knows
 * the SDKs independently of src/adapters/zoho-sdk/families, so the tests check the descriptors
 * instead of repeating them.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ZohoSdkFamilyName } from '../../../src/adapters/zoho-sdk.js';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface TestToken {
  clientId?: string;
  clientSecret?: string;
  grantToken?: string;
  refreshToken?: string;
  accessToken?: string;
  redirectUrl?: string;
  id?: string;
}

/** One family as the tests drive it. */
export interface FamilyUnderTest {
  family: ZohoSdkFamilyName;
  /** The dev dependency's alias in node_modules. */
  alias: string;
  /** The package's real name. */
  packageName: string;
  api: 'token' | 'user-token';
  /** Tokens carry api_domain (typescript-sdk 6+, nodejs-sdk 7+). */
  apiDomain: boolean;
  getTokenById: boolean;
  /** Whether the SDK checks `store instanceof TokenStore` (the JS SDKs). */
  checksStore: boolean;
  /** Loads a module of the package as an application would (`''` = the package itself). */
  load(file?: string): Record<string, unknown>;
  /** A new SDK token, built as the SDK's README shows. */
  token(fields: TestToken): object;
  /** A UserSignature for `name` (an email: the v2 SDKs validate it). */
  user(name: string): object;
  /** The token's fields read through the SDK's own getters/properties. */
  read(token: object): Record<string, unknown>;
  classes(): { OAuthToken: AnyClass; UserSignature: AnyClass; SDKException: AnyClass; TokenStore?: AnyClass | undefined };
}

/** The aliased packages, resolved from this checkout (the test's own node_modules). */
const requireHere = createRequire(join(ROOT, 'noop.js'));

type Ctor = new (...args: unknown[]) => object;
/** A class, for instanceof checks. */
export type AnyClass = abstract new (...args: never[]) => unknown;

/** Calls a method by name (undefined when the object has none, as a v2 token has no getAPIDomain). */
function call(target: object, method: string, ...args: unknown[]): unknown {
  const fn = (target as Record<string, unknown>)[method];
  return typeof fn === 'function' ? fn.apply(target, args) : undefined;
}

/** Builds with an SDK's OAuthBuilder: each given field through its builder method, then build(). */
function build(builder: object, steps: readonly (readonly [string, unknown])[]): object {
  let b = builder;
  for (const [method, value] of steps) if (value !== undefined) b = call(b, method, value) as object;
  return call(b, 'build') as object;
}

function builderSteps(f: TestToken): [string, unknown][] {
  return [
    ['id', f.id],
    ['clientId', f.clientId],
    ['clientSecret', f.clientSecret],
    ['grantToken', f.grantToken],
    ['refreshToken', f.refreshToken],
    ['accessToken', f.accessToken],
    ['redirectURL', f.redirectUrl],
  ];
}

function gettersFamily(family: ZohoSdkFamilyName, alias: string, packageName: string, checksStore: boolean): FamilyUnderTest {
  const load = (file = '') => requireHere(file ? `${alias}/${file}` : alias) as Record<string, unknown>;
  return {
    family,
    alias,
    packageName,
    api: 'token',
    apiDomain: true,
    getTokenById: true,
    checksStore,
    load,
    token: (f) => build(new (load().OAuthBuilder as Ctor)(), builderSteps(f)),
    user: (name) => new (load().UserSignature as Ctor)(name),
    read: (t) => ({
      id: call(t, 'getId'),
      userName: (call(t, 'getUserSignature') as { getName(): string } | null)?.getName(),
      clientId: call(t, 'getClientId'),
      clientSecret: call(t, 'getClientSecret'),
      refreshToken: call(t, 'getRefreshToken'),
      accessToken: call(t, 'getAccessToken'),
      grantToken: call(t, 'getGrantToken'),
      expiresIn: call(t, 'getExpiresIn'),
      redirectUrl: call(t, 'getRedirectURL'),
      apiDomain: call(t, 'getAPIDomain'),
    }),
    classes() {
      const m = load();
      return {
        OAuthToken: m.OAuthToken as AnyClass,
        UserSignature: m.UserSignature as AnyClass,
        SDKException: m.SDKException as AnyClass,
        TokenStore: checksStore ? ((m.TokenStore as Record<string, AnyClass>).TokenStore as AnyClass) : undefined,
      };
    },
  };
}

/** typescript-sdk 2.0/2.1 and nodejs-sdk 2.0: OAuthBuilder, getUserMail(). */
function v2Family(family: ZohoSdkFamilyName, alias: string, packageName: string, onMain: boolean, checksStore: boolean): FamilyUnderTest {
  const load = (file = '') => requireHere(file ? `${alias}/${file}` : alias) as Record<string, unknown>;
  const from = (file: string, name: string) => (onMain ? load() : load(file))[name] as Ctor;
  const self = gettersFamily(family, alias, packageName, checksStore);
  return {
    ...self,
    api: 'user-token',
    apiDomain: false,
    token: (f) => build(new (from('models/authenticator/oauth_builder.js', 'OAuthBuilder') as Ctor)(), builderSteps(f)),
    user: (name) => new (from('routes/user_signature.js', 'UserSignature') as Ctor)(name),
    read: (t) => {
      const { userName: _ignored, apiDomain: _none, ...rest } = self.read(t);
      return { ...rest, userName: call(t, 'getUserMail') };
    },
    classes: () => ({
      OAuthToken: from('models/authenticator/oauth_token.js', 'OAuthToken'),
      UserSignature: from('routes/user_signature.js', 'UserSignature'),
      SDKException: from('core/com/zoho/crm/api/exception/sdk_exception.js', 'SDKException'),
      TokenStore: checksStore ? (load('models/authenticator/store/token_store.js').TokenStore as AnyClass) : undefined,
    }),
  };
}

/** zcrmsdk 1.x: new OAuthToken(clientID, clientSecret, token, TokenType, redirectURL), plain properties. */
function zcrmsdkFamily(): FamilyUnderTest {
  const alias = 'zcrmsdk-1';
  const load = (file = '') => requireHere(file ? `${alias}/${file}` : alias) as Record<string, unknown>;
  const tokenModule = () =>
    load('models/authenticator/oauth_token.js') as { OAuthToken: Ctor; TokenType: { GRANT: string; REFRESH: string } };
  return {
    family: 'zcrmsdk-1',
    alias,
    packageName: 'zcrmsdk',
    api: 'user-token',
    apiDomain: false,
    getTokenById: false,
    checksStore: true,
    load,
    token(f) {
      const { OAuthToken, TokenType } = tokenModule();
      const grant = f.grantToken !== undefined;
      const t = new OAuthToken(
        f.clientId ?? '',
        f.clientSecret ?? null,
        (grant ? f.grantToken : f.refreshToken) ?? '',
        grant ? TokenType.GRANT : TokenType.REFRESH,
        f.redirectUrl ?? null,
      ) as Record<string, unknown>;
      if (f.accessToken) t.accessToken = f.accessToken;
      if (f.id) t.id = f.id;
      return t;
    },
    user: (name) => new (load('routes/user_signature.js').UserSignature as Ctor)(name),
    read: (t) => {
      const r = t as Record<string, unknown>;
      return {
        id: r.id,
        userName: r.userMail,
        clientId: r.clientID,
        clientSecret: r.clientSecret,
        refreshToken: r.refreshToken,
        accessToken: r.accessToken,
        grantToken: r.grantToken,
        expiresIn: r.expiresIn,
        redirectUrl: r.redirectURL,
      };
    },
    classes: () => ({
      OAuthToken: tokenModule().OAuthToken,
      UserSignature: load('routes/user_signature.js').UserSignature as AnyClass,
      SDKException: load('core/com/zoho/crm/api/exception/sdk_exception.js').SDKException as AnyClass,
      TokenStore: load('models/authenticator/store/token_store.js').TokenStore as AnyClass,
    }),
  };
}

export const FAMILIES: readonly FamilyUnderTest[] = [
  zcrmsdkFamily(),
  v2Family('nodejs-2', 'zoho-node-2', '@zohocrm/nodejs-sdk-2.0', false, true),
  gettersFamily('nodejs-7', 'zoho-node-7', '@zohocrm/nodejs-sdk-7.0', true),
  gettersFamily('nodejs-8', 'zoho-node-8', '@zohocrm/nodejs-sdk-8.0', true),
  v2Family('ts-2', 'zoho-ts-2', '@zohocrm/typescript-sdk-2.0', false, false),
  v2Family('ts-2.1', 'zoho-ts-2-1', '@zohocrm/typescript-sdk-2.1', true, false),
  gettersFamily('ts-6', 'zoho-ts-6', '@zohocrm/typescript-sdk-6.0', false),
  gettersFamily('ts-7', 'zoho-ts-7', '@zohocrm/typescript-sdk-7.0', false),
  gettersFamily('ts-8', '@zohocrm/typescript-sdk-8.0', '@zohocrm/typescript-sdk-8.0', false),
];

/**
 * A temporary application directory whose node_modules holds the given families under their
 * real names (symlinks to the aliased dev dependencies), as `npm install <real name>` would.
 */
export function appWith(families: readonly FamilyUnderTest[]): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-sdk-app-'));
  for (const f of families) {
    const link = join(dir, 'node_modules', f.packageName);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(dirname(requireHere.resolve(`${f.alias}/package.json`)), link, 'dir');
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
