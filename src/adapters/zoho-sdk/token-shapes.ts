/**
 * The three ways the official SDK families hold a token's fields (families/types.ts
 * TokenShapeName), and how each family's own code builds a new token. Everything else in the
 * adapter reads and writes SDK tokens through these accessors only.
 */
import type { TokenField } from '../../token.js';
import type { TokenShapeName } from './families/types.js';

/** An SDK token: the family's OAuthToken instance. */
export type SdkToken = object;

/** Reads and writes one of our fields on an SDK token; values are the SDK's (strings, null when absent). */
export interface FieldAccess {
  get(token: SdkToken): unknown;
  set(token: SdkToken, value: string | null): void;
}

/** The family's classes the shapes need. */
export interface ShapeClasses {
  OAuthToken: new (...args: never[]) => object;
  UserSignature: new (name: string) => object;
}

export interface TokenShape {
  /** Our fields the shape holds; a field it lacks (apiDomain on v2) is absent here. */
  fields: Partial<Record<TokenField, FieldAccess>>;
  /** A new token, built as the family's own stores build one (constructor arguments from `seed`); the caller sets every field after. */
  create(seed: Partial<Record<TokenField, string>>): SdkToken;
}

type Dict = Record<string, unknown>;

function methods(getter: string, setter: string): FieldAccess {
  return {
    get: (token) => (token as Record<string, () => unknown>)[getter]?.call(token),
    set: (token, value) => {
      (token as Record<string, (v: unknown) => void>)[setter]?.call(token, value);
    },
  };
}

function property(name: string): FieldAccess {
  return {
    get: (token) => (token as Dict)[name],
    set: (token, value) => {
      (token as Dict)[name] = value;
    },
  };
}

const COMMON_GETTERS = {
  id: methods('getId', 'setId'),
  clientId: methods('getClientId', 'setClientId'),
  clientSecret: methods('getClientSecret', 'setClientSecret'),
  refreshToken: methods('getRefreshToken', 'setRefreshToken'),
  accessToken: methods('getAccessToken', 'setAccessToken'),
  grantToken: methods('getGrantToken', 'setGrantToken'),
  expiryTime: methods('getExpiresIn', 'setExpiresIn'),
  redirectUrl: methods('getRedirectURL', 'setRedirectURL'),
} satisfies Partial<Record<TokenField, FieldAccess>>;

/** typescript-sdk 6/7/8, nodejs-sdk 7/8: the user is a UserSignature(name); the SDK's stores start from Reflect.construct(OAuthToken, []). */
function gettersShape(classes: ShapeClasses): TokenShape {
  return {
    fields: {
      ...COMMON_GETTERS,
      userName: {
        get: (token) => {
          const signature = (token as { getUserSignature(): { getName?: () => unknown } | null }).getUserSignature();
          return signature === null || signature === undefined ? undefined : signature.getName?.();
        },
        set: (token, value) => {
          (token as { setUserSignature(s: unknown): void }).setUserSignature(value === null ? null : new classes.UserSignature(value));
        },
      },
      apiDomain: methods('getAPIDomain', 'setAPIDomain'),
    },
    create: () => Reflect.construct(classes.OAuthToken, []),
  };
}

/** typescript-sdk 2.0/2.1, nodejs-sdk 2.0: the user's email on the token; built as OAuthBuilder.build() builds it. */
function legacyGettersShape(classes: ShapeClasses): TokenShape {
  return {
    fields: { ...COMMON_GETTERS, userName: methods('getUserMail', 'setUserMail') },
    create(seed) {
      // OAuthBuilder.build(): new OAuthToken(clientID, clientSecret, grantToken, refreshToken, redirectURL, id, accessToken)
      const args = [seed.clientId, seed.clientSecret, seed.grantToken, seed.refreshToken, seed.redirectUrl, seed.id, seed.accessToken];
      return Reflect.construct(
        classes.OAuthToken,
        args.map((v) => v ?? null),
      );
    },
  };
}

/** zcrmsdk 1.x: plain properties; its stores call new OAuthToken(clientID, clientSecret, token, 'GRANT' | 'REFRESH'). */
function propertiesShape(classes: ShapeClasses): TokenShape {
  return {
    fields: {
      id: property('id'),
      userName: property('userMail'),
      clientId: property('clientID'),
      clientSecret: property('clientSecret'),
      refreshToken: property('refreshToken'),
      accessToken: property('accessToken'),
      grantToken: property('grantToken'),
      expiryTime: property('expiresIn'),
      redirectUrl: property('redirectURL'),
    },
    create(seed) {
      // Its constructor insists on a string client id and token: the real values are set right after.
      const type = seed.grantToken ? 'GRANT' : 'REFRESH';
      const args = [
        seed.clientId ?? '',
        seed.clientSecret ?? null,
        seed.grantToken ?? seed.refreshToken ?? '',
        type,
        seed.redirectUrl ?? null,
      ];
      const token = Reflect.construct(classes.OAuthToken, args) as Dict;
      token.clientID = seed.clientId ?? null;
      token.grantToken = seed.grantToken ?? null;
      token.refreshToken = seed.refreshToken ?? null;
      return token;
    },
  };
}

const SHAPES: Record<TokenShapeName, (classes: ShapeClasses) => TokenShape> = {
  getters: gettersShape,
  'legacy-getters': legacyGettersShape,
  properties: propertiesShape,
};

/** The accessors of a family's tokens, bound to its classes. */
export function tokenShape(name: TokenShapeName, classes: ShapeClasses): TokenShape {
  return SHAPES[name](classes);
}
