// Every official Zoho Node SDK's own FileStore, driven through its own token and user classes
// (no Initializer and no network: only OAuthToken's token requests talk to Zoho). Each family
// turns our tokens into its objects and back, so a test can say "the official store wrote this"
// or "the official store read every field" in our terms.
import { createRequire } from 'node:module';
import type { FileLayoutName } from '../../../src/stores/file/layouts.js';
import type { OAuthToken, TokenField } from '../../../src/token.js';

const require = createRequire(import.meta.url);

/** One official FileStore on one file, in our terms. */
export interface OfficialFile {
  save(token: OAuthToken): Promise<void>;
  /** Every row, read through the SDK's getters (empty cells absent, expiry as a number). */
  all(): Promise<OAuthToken[]>;
  /** The SDK's own lookup of a stored token (by user, client and refresh or grant token; or by its matching rules). */
  find(token: OAuthToken): Promise<OAuthToken | null>;
  /** The SDK's lookup by id, where it has one. */
  byId?(id: string): Promise<OAuthToken | null>;
}

export interface SdkFileFamily {
  /** The package and version, as installed under its alias. */
  label: string;
  /** The layout its FileStore writes. */
  layout: FileLayoutName;
  /** Our fields its file holds. */
  fields: readonly TokenField[];
  /** Opens its FileStore on `path`, which writes its header (or upgrades a 9-column file) as it does; null when not installed. */
  open: (path: string) => Promise<OfficialFile>;
  available: () => Promise<boolean>;
}

// biome-ignore lint/suspicious/noExplicitAny: the SDKs' classes are untyped JavaScript
type Any = any;

/** An SDK value as ours: null, undefined and "" are absent; expiry is a number. */
function ours(values: Partial<Record<TokenField, unknown>>): OAuthToken {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(values)) {
    if (value === null || value === undefined || value === '') continue;
    out[field] = field === 'expiryTime' ? Number(value) : String(value);
  }
  return out as OAuthToken;
}

const TEN: TokenField[] = [
  'id',
  'userName',
  'clientId',
  'clientSecret',
  'refreshToken',
  'accessToken',
  'grantToken',
  'expiryTime',
  'redirectUrl',
  'apiDomain',
];
const NINE = TEN.filter((f) => f !== 'apiDomain');
const SIX: TokenField[] = ['userName', 'clientId', 'refreshToken', 'accessToken', 'grantToken', 'expiryTime'];

// ---------------------------------------------------------------------------------------------
// typescript-sdk 6.0 to 8.0 (CommonJS) and nodejs-sdk 7.0 and 8.0 (ESM): findToken(token),
// findTokenById(id), saveToken(token), an OAuthToken with setters and a UserSignature(name).

interface V6Classes {
  FileStore: new (path: string) => Any;
  OAuthToken: new () => Any;
  UserSignature: new (name: string) => Any;
}

function v6Token(sdk: V6Classes, token: OAuthToken): Any {
  const t = new sdk.OAuthToken();
  if (token.id) t.setId(token.id);
  if (token.userName) t.setUserSignature(new sdk.UserSignature(token.userName));
  if (token.clientId) t.setClientId(token.clientId);
  if (token.clientSecret) t.setClientSecret(token.clientSecret);
  if (token.refreshToken) t.setRefreshToken(token.refreshToken);
  if (token.accessToken) t.setAccessToken(token.accessToken);
  if (token.grantToken) t.setGrantToken(token.grantToken);
  if (token.expiryTime !== undefined) t.setExpiresIn(String(token.expiryTime));
  if (token.redirectUrl) t.setRedirectURL(token.redirectUrl);
  if (token.apiDomain) t.setAPIDomain(token.apiDomain);
  return t;
}

function v6Ours(t: Any): OAuthToken | null {
  if (!t) return null;
  return ours({
    id: t.getId(),
    userName: t.getUserSignature()?.getName(),
    clientId: t.getClientId(),
    clientSecret: t.getClientSecret(),
    refreshToken: t.getRefreshToken(),
    accessToken: t.getAccessToken(),
    grantToken: t.getGrantToken(),
    expiryTime: t.getExpiresIn(),
    redirectUrl: t.getRedirectURL(),
    apiDomain: t.getAPIDomain(),
  });
}

function v6Family(label: string, layout: FileLayoutName, load: () => Promise<V6Classes>): SdkFileFamily {
  let loaded: Promise<V6Classes | null> | null = null;
  const classes = () => (loaded ??= load().catch(() => null));
  return {
    label,
    layout,
    fields: TEN,
    available: async () => (await classes()) !== null,
    open: async (path) => {
      const sdk = (await classes())!;
      const store = new sdk.FileStore(path);
      return {
        save: (token) => store.saveToken(v6Token(sdk, token)),
        all: async () => (await store.getTokens()).map((t: Any) => v6Ours(t)!),
        find: async (token) => v6Ours(await store.findToken(v6Token(sdk, token))),
        byId: async (id) => v6Ours(await store.findTokenById(id)),
      };
    },
  };
}

function cjsV6(pkg: string): () => Promise<V6Classes> {
  return async () => ({
    FileStore: require(`${pkg}/dist/models/authenticator/store/file_store.js`).FileStore,
    OAuthToken: require(`${pkg}/dist/models/authenticator/oauth_token.js`).OAuthToken,
    UserSignature: require(`${pkg}/dist/routes/user_signature.js`).UserSignature,
  });
}

function esmV6(pkg: string): () => Promise<V6Classes> {
  return async () => ({
    FileStore: (await import(`${pkg}/lib/models/authenticator/store/file_store.js`)).FileStore,
    OAuthToken: (await import(`${pkg}/lib/models/authenticator/oauth_token.js`)).OAuthToken,
    // file_store.js builds users with the class zohocrmsdk.js exports: the same one.
    UserSignature: (await import(`${pkg}/lib/routes/user_signature.js`)).UserSignature,
  });
}

// ---------------------------------------------------------------------------------------------
// typescript-sdk 2.0 and 2.1, nodejs-sdk 2.0 (CommonJS): getToken(user, token),
// getTokenById(id, token), saveToken(user, token); OAuthToken(clientID, clientSecret,
// grantToken, refreshToken, redirectURL, id, accessToken); UserSignature(email) with getName()
// (ts 2.0) or getEmail() (ts 2.1, nodejs 2.0).

interface V2Classes {
  FileStore: new (path: string) => Any;
  OAuthToken: new (...args: (string | null)[]) => Any;
  UserSignature: new (email: string | undefined) => Any;
}

function v2Token(sdk: V2Classes, token: OAuthToken): Any {
  const t = new sdk.OAuthToken(
    token.clientId ?? null,
    token.clientSecret ?? null,
    token.grantToken ?? null,
    token.refreshToken ?? null,
    token.redirectUrl ?? null,
    token.id ?? null,
    token.accessToken ?? null,
  );
  if (token.expiryTime !== undefined) t.setExpiresIn(String(token.expiryTime));
  return t;
}

function v2Ours(t: Any): OAuthToken | null {
  if (!t) return null;
  return ours({
    id: t.getId(),
    userName: t.getUserMail(),
    clientId: t.getClientId(),
    clientSecret: t.getClientSecret(),
    refreshToken: t.getRefreshToken(),
    accessToken: t.getAccessToken(),
    grantToken: t.getGrantToken(),
    expiryTime: t.getExpiresIn(),
    redirectUrl: t.getRedirectURL(),
  });
}

function v2Family(label: string, root: string): SdkFileFamily {
  let loaded: V2Classes | null | undefined;
  const classes = (): V2Classes | null => {
    if (loaded === undefined) {
      try {
        loaded = {
          FileStore: require(`${root}/models/authenticator/store/file_store.js`).FileStore,
          OAuthToken: require(`${root}/models/authenticator/oauth_token.js`).OAuthToken,
          UserSignature: require(`${root}/routes/user_signature.js`).UserSignature,
        };
      } catch {
        loaded = null;
      }
    }
    return loaded;
  };
  return {
    label,
    layout: 'v2',
    fields: NINE,
    available: async () => classes() !== null,
    open: async (path) => {
      const sdk = classes()!;
      const store = new sdk.FileStore(path);
      return {
        save: (token) => store.saveToken(new sdk.UserSignature(token.userName), v2Token(sdk, token)),
        all: async () => (await store.getTokens()).map((t: Any) => v2Ours(t)!),
        find: async (token) =>
          v2Ours(await store.getToken(new sdk.UserSignature(token.userName), v2Token(sdk, { ...token, id: undefined }))),
        byId: async (id) => v2Ours(await store.getTokenById(id, v2Token(sdk, {}))),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// zcrmsdk 1.x (CommonJS): synchronous getToken(user, token), saveToken(user, token); an
// OAuthToken(clientID, clientSecret, token, type) with plain properties; UserSignature(email).

function zcrmsdkFamily(): SdkFileFamily {
  const root = 'zcrmsdk-1';
  let loaded: Any;
  const classes = () => {
    if (loaded === undefined) {
      try {
        const token = require(`${root}/models/authenticator/oauth_token.js`);
        loaded = {
          FileStore: require(`${root}/models/authenticator/store/file_store.js`).FileStore,
          OAuthToken: token.OAuthToken,
          TokenType: token.TokenType,
          UserSignature: require(`${root}/routes/user_signature.js`).UserSignature,
        };
      } catch {
        loaded = null;
      }
    }
    return loaded;
  };
  const toSdk = (sdk: Any, token: OAuthToken) => {
    const type = token.grantToken ? sdk.TokenType.GRANT : sdk.TokenType.REFRESH;
    const t = new sdk.OAuthToken(
      token.clientId ?? '',
      token.clientSecret ?? null,
      token.grantToken ?? token.refreshToken ?? '',
      type,
      token.redirectUrl ?? null,
    );
    if (token.refreshToken) t.refreshToken = token.refreshToken;
    if (token.accessToken) t.accessToken = token.accessToken;
    if (token.expiryTime !== undefined) t.expiresIn = String(token.expiryTime);
    return t;
  };
  const fromSdk = (t: Any, userName?: string): OAuthToken | null =>
    t
      ? ours({
          userName: t.userMail ?? userName,
          clientId: t.clientID,
          refreshToken: t.refreshToken,
          accessToken: t.accessToken,
          grantToken: t.grantToken,
          expiryTime: t.expiresIn,
        })
      : null;
  return {
    label: 'zcrmsdk@1.1.0',
    layout: 'zcrmsdk',
    fields: SIX,
    available: async () => classes() !== null,
    open: async (path) => {
      const sdk = classes();
      const store = new sdk.FileStore(path);
      return {
        save: async (token) => store.saveToken(new sdk.UserSignature(token.userName), toSdk(sdk, token)),
        // Its getTokens builds each token from the grant token when there is one, so the
        // refresh token of such a row is only seen through getToken: `all` reads both ways.
        all: async () =>
          store.getTokens().map((listed: Any) => {
            const found = store.getToken(new sdk.UserSignature(listed.userMail), listed);
            return fromSdk(found ?? listed);
          }),
        find: async (token) => {
          const partial = toSdk(sdk, { clientId: token.clientId, grantToken: token.grantToken, refreshToken: token.refreshToken });
          if (token.grantToken) partial.refreshToken = null;
          return fromSdk(store.getToken(new sdk.UserSignature(token.userName), partial), token.userName);
        },
      };
    },
  };
}

/** Every family, newest first. */
export const SDK_FILE_FAMILIES: SdkFileFamily[] = [
  v6Family('@zohocrm/typescript-sdk-8.0@3.0.0', 'ts-8', cjsV6('@zohocrm/typescript-sdk-8.0')),
  v6Family('@zohocrm/typescript-sdk-7.0@2.0.0', 'ts-8', cjsV6('zoho-ts-7')),
  v6Family('@zohocrm/typescript-sdk-6.0@3.0.0', 'ts-8', cjsV6('zoho-ts-6')),
  v6Family('@zohocrm/nodejs-sdk-8.0@2.0.0', 'nodejs-8', esmV6('zoho-node-8')),
  v6Family('@zohocrm/nodejs-sdk-7.0@4.0.0', 'nodejs-8', esmV6('zoho-node-7')),
  v2Family('@zohocrm/typescript-sdk-2.1@1.1.0', 'zoho-ts-2-1/dist'),
  v2Family('@zohocrm/typescript-sdk-2.0@7.0.0', 'zoho-ts-2'),
  v2Family('@zohocrm/nodejs-sdk-2.0@6.1.0', 'zoho-node-2'),
  zcrmsdkFamily(),
];
