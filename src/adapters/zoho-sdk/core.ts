/**
 * The adapter itself, once for every family: the SDK's store methods (named and shaped as the
 * family descriptor says) over one of our TokenStores. Matching, ids and validation stay in the
 * wrapped store (src/token.ts rules); every failure reaches the SDK as its own SDKException with
 * code 'TOKEN_STORE' and our TokenStoreError as the cause.
 */
import { isIdRefusal, TokenStoreError } from '../../errors.js';
import type { TokenStore } from '../../store.js';
import { type OAuthToken, type StoredToken, TOKEN_FIELDS, type TokenField } from '../../token.js';
import { fillSdkToken, fromSdkToken, type ReadOptions, secretsOfSdkToken, toSdkToken } from './convert.js';
import type { SdkClasses } from './sdk-classes.js';
import { GIVEN_ID_IS_INVALID, sdkException, toSdkException } from './sdk-errors.js';
import { type SdkToken, tokenShape } from './token-shapes.js';

/** What the v2 and zcrmsdk stores refresh from the row on getToken (the row is the truth: another process may have refreshed). */
const REFRESHED_ON_FIND: readonly TokenField[] = ['id', 'userName', 'accessToken', 'refreshToken', 'expiryTime'];

export type AdapterMethods = Record<string, (...args: never[]) => Promise<unknown>>;

/** The store methods for `classes.family`, over `store`; `name` names it in messages. */
export function adapterMethods(store: TokenStore, classes: SdkClasses, name: string): AdapterMethods {
  const { family } = classes;
  const shape = tokenShape(family.shape, classes);

  /** Runs one SDK call, turning every failure into the SDK's SDKException (scrubbed of `token`'s secrets). */
  async function run<T>(operation: string, token: unknown, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toSdkException(classes, error, operation, name, secretsOfSdkToken(shape, token));
    }
  }

  /** The SDK's own stores check `token instanceof OAuthToken`; so does the adapter (a copy of the SDK fails here, by name). */
  function asSdkToken(value: unknown): SdkToken {
    if (value instanceof classes.OAuthToken) return value;
    const got =
      value === null ? 'null' : typeof value === 'object' ? `an instance of ${value.constructor?.name ?? 'Object'}` : typeof value;
    throw new TokenStoreError(
      'INVALID_TOKEN',
      `Invalid token: expected the Zoho SDK's OAuthToken (${family.packageName} ${classes.version} at ${classes.location}), got ${got}`,
    );
  }

  /** The user a v2/zcrmsdk UserSignature names (getEmail(), getName() or .email, per family). */
  function userOf(user: unknown): unknown {
    const how = family.signatureName;
    if (how === null || user === null || user === undefined) return undefined;
    if ('property' in how) return (user as Record<string, unknown>)[how.property];
    const method = (user as Record<string, unknown>)[how.method];
    return typeof method === 'function' ? method.call(user) : undefined;
  }

  function read(token: SdkToken, options?: ReadOptions): OAuthToken {
    return fromSdkToken(shape, token, options);
  }

  async function findById(operation: string, id: string): Promise<StoredToken> {
    const found = await store.findTokenById(id);
    if (!found) {
      throw sdkException(classes, `Exception in ${operation} - ${name} : ${GIVEN_ID_IS_INVALID} (no token has id ${JSON.stringify(id)})`);
    }
    return found;
  }

  /**
   * The stored row `plain` names (by its id, else by the matching rules), and `plain` without an id
   * the store's table cannot hold. The store's own id check decides (validateId with its table's
   * width: 10 digits, a Python uuid, a v2 id): an id the v2 SDKs make up before saving
   * (`nodejs_alice_PRD_abcd`) is too long for a numeric-id table, so the store gives its own.
   */
  async function located(plain: OAuthToken): Promise<{ token: OAuthToken; row: StoredToken | null }> {
    if (plain.id === undefined) return { token: plain, row: await store.findToken(plain) };
    let byId: StoredToken | null;
    try {
      byId = await store.findTokenById(plain.id);
    } catch (error) {
      if (!isIdRefusal(error)) throw error;
      const { id: _unstorable, ...token } = plain;
      return { token, row: await store.findToken(token) };
    }
    return { token: plain, row: byId ?? (await store.findToken(plain)) };
  }

  /** Saves like the SDK's own stores: fields the SDK token lacks keep their stored values; the id is set on the token. */
  async function save(sdkToken: SdkToken, options: ReadOptions): Promise<void> {
    const { token, row } = await located(read(sdkToken, options));
    const saved = await store.saveToken(row ? { ...row, ...token } : token);
    fillSdkToken(shape, sdkToken, saved, ['id']);
  }

  const getTokens = () => run('getTokens', null, async () => (await store.getTokens()).map((t) => toSdkToken(shape, t)));
  const deleteTokens = () => run('deleteTokens', null, () => store.deleteTokens());

  if (family.api === 'token') {
    return {
      findToken: (token: unknown) =>
        run('findToken', token, async () => {
          const sdkToken = asSdkToken(token);
          const found = await store.findToken(read(sdkToken));
          return found ? fillSdkToken(shape, sdkToken, found) : null;
        }),
      findTokenById: (id: string) => run('getTokenById', null, async () => toSdkToken(shape, await findById('getTokenById', id))),
      saveToken: (token: unknown) => run('saveToken', token, () => save(asSdkToken(token), {})),
      deleteToken: (id: string) => run('deleteToken', null, () => store.deleteToken(id)),
      getTokens,
      deleteTokens,
    };
  }

  const methods: AdapterMethods = {
    getToken: (user: unknown, token: unknown) =>
      run('getToken', token, async () => {
        const sdkToken = asSdkToken(token);
        const found = await store.findToken(read(sdkToken, { userName: userOf(user) }));
        return found ? fillSdkToken(shape, sdkToken, found, REFRESHED_ON_FIND) : null;
      }),
    saveToken: (user: unknown, token: unknown) =>
      run('saveToken', token, async () => {
        const sdkToken = asSdkToken(token);
        const userName = userOf(user);
        // As the SDK's stores do first: the token now carries its user.
        if (typeof userName === 'string' && userName !== '') shape.fields.userName?.set(sdkToken, userName);
        await save(sdkToken, { userName });
      }),
    deleteToken: (token: unknown) =>
      run('deleteToken', token, async () => {
        // The v2 stores delete the row matching the token (by its user, client and grant or refresh token).
        const { row } = await located(read(asSdkToken(token)));
        if (row) await store.deleteToken(row.id);
      }),
    getTokens,
    deleteTokens,
  };
  if (family.getTokenById) {
    methods.getTokenById = (id: string, token: unknown) =>
      run('getTokenById', token, async () => {
        const found = await findById('getTokenById', id);
        // v2's stores fill the token they are given with the row.
        return token instanceof classes.OAuthToken ? fillSdkToken(shape, token, found, TOKEN_FIELDS) : toSdkToken(shape, found);
      });
  }
  return methods;
}
