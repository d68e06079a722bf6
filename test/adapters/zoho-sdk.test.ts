/**
 * zohoSdkStore() method by method, with the official SDK's own OAuthToken, UserSignature and
 * SDKException classes (what the SDK hands its store and expects back) over real stores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ZohoSdk from '@zohocrm/typescript-sdk-8.0';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GIVEN_ID_IS_INVALID, SDK_TOKEN_STORE_CODE, type ZohoSdkTokenStore, zohoSdkStore } from '../../src/adapters/zoho-sdk.js';
import { TokenStoreError } from '../../src/errors.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import type { OAuthToken, StoredToken } from '../../src/token.js';

const Z = createRequire(import.meta.url)('@zohocrm/typescript-sdk-8.0') as typeof ZohoSdk;

const CLIENT_ID = '1000.ADAPTERTESTCLIENT000000000000';
const CLIENT_SECRET = 'adapter-secret-0123456789abcdef0123';
const ACCESS = '1000.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const REFRESH = '1000.cccccccccccccccccccccccccccccccc.dddddddddddddddddddddddddddddddd';
const GRANT = '1000.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.ffffffffffffffffffffffffffffffff';
const EXPIRY = 1_764_000_000_000;

const ALICE: OAuthToken = {
  userName: 'alice@zylker.com:700123456',
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  refreshToken: REFRESH,
  accessToken: ACCESS,
  grantToken: GRANT,
  expiryTime: EXPIRY,
  redirectUrl: 'https://app.example.com/callback',
  apiDomain: 'https://www.zohoapis.com',
};

function sdkToken(fill: (b: ZohoSdk.OAuthBuilder) => ZohoSdk.OAuthBuilder): ZohoSdk.OAuthToken {
  return fill(new Z.OAuthBuilder()).build() as ZohoSdk.OAuthToken;
}

/** The fields of an SDK token as plain data, for comparisons. */
function fieldsOf(t: ZohoSdk.OAuthToken) {
  return {
    id: t.getId(),
    userName: t.getUserSignature()?.getName(),
    clientId: t.getClientId(),
    clientSecret: t.getClientSecret(),
    refreshToken: t.getRefreshToken(),
    accessToken: t.getAccessToken(),
    grantToken: t.getGrantToken(),
    expiresIn: t.getExpiresIn(),
    redirectUrl: t.getRedirectURL(),
    apiDomain: t.getAPIDomain(),
  };
}

/** What an SDKException carries (its .d.ts declares code and cause private). */
interface SdkError {
  code: string;
  message: string;
  cause: unknown;
}

async function expectSdkException(promise: Promise<unknown>, message: RegExp): Promise<SdkError> {
  const error = await promise.then(
    () => {
      throw new Error('expected an SDKException');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Z.SDKException);
  const sdkError = error as SdkError;
  expect(sdkError.code).toBe(SDK_TOKEN_STORE_CODE);
  expect(sdkError.message).toMatch(message);
  return sdkError;
}

describe('zohoSdkStore over SQLiteStore, with the SDK OAuthToken class', () => {
  let dir: string;
  let store: SQLiteStore;
  let adapter: ZohoSdkTokenStore;
  let alice: StoredToken;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ztoken-sdk-adapter-'));
    store = new SQLiteStore({ path: join(dir, 'zohooauth.db') });
    adapter = zohoSdkStore(store);
    alice = await store.saveToken(ALICE);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is accepted by InitializeBuilder.store()', () => {
    // A compile-time check as much as a runtime one: the adapter has the SDK's TokenStore type.
    expect(new Z.InitializeBuilder().store(adapter)).toBeInstanceOf(Z.InitializeBuilder);
  });

  describe('findToken', () => {
    it('fills the SDK token it is given (by grant token with client credentials) and returns that same object', async () => {
      const given = sdkToken((b) => b.clientId(CLIENT_ID).clientSecret(CLIENT_SECRET).grantToken(GRANT));
      const found = await adapter.findToken(given);
      expect(found).toBe(given);
      expect(fieldsOf(given)).toEqual({
        id: alice.id,
        userName: ALICE.userName,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: REFRESH,
        accessToken: ACCESS,
        grantToken: GRANT,
        expiresIn: String(EXPIRY),
        redirectUrl: ALICE.redirectUrl,
        apiDomain: ALICE.apiDomain,
      });
      expect(given.getUserSignature()).toBeInstanceOf(Z.UserSignature);
    });

    it('matches by user signature first, and keeps the values the given token already holds', async () => {
      const given = sdkToken((b) =>
        b.userSignature(new Z.UserSignature(ALICE.userName as string)).redirectURL('https://other.example.com/cb'),
      );
      expect(await adapter.findToken(given)).toBe(given);
      expect(given.getAccessToken()).toBe(ACCESS);
      expect(given.getRedirectURL()).toBe('https://other.example.com/cb');
    });

    it('matches by refresh token with client credentials', async () => {
      const given = sdkToken((b) => b.clientId(CLIENT_ID).clientSecret(CLIENT_SECRET).refreshToken(REFRESH));
      expect((await adapter.findToken(given))?.getId()).toBe(alice.id);
    });

    it('returns null and leaves the token untouched when nothing matches', async () => {
      const given = sdkToken((b) => b.clientId(CLIENT_ID).clientSecret(CLIENT_SECRET).grantToken('1000.unknown-grant-code'));
      const before = fieldsOf(given);
      expect(await adapter.findToken(given)).toBeNull();
      expect(fieldsOf(given)).toEqual(before);
    });

    it('refuses something that is not an SDK OAuthToken with an SDKException', async () => {
      const error = await expectSdkException(adapter.findToken({ userName: 'x' }), /findToken.*Zoho SDK's OAuthToken/);
      expect(error.cause).toBeInstanceOf(TokenStoreError);
      expect((error.cause as TokenStoreError).reason).toBe('INVALID_TOKEN');
    });
  });

  describe('findTokenById', () => {
    it("returns a new instance of the SDK's OAuthToken holding the stored token", async () => {
      const found = await adapter.findTokenById(alice.id);
      expect(found).toBeInstanceOf(Z.OAuthToken);
      expect(found.getUserSignature()).toBeInstanceOf(Z.UserSignature);
      expect(fieldsOf(found as ZohoSdk.OAuthToken)).toEqual({
        id: alice.id,
        userName: ALICE.userName,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: REFRESH,
        accessToken: ACCESS,
        grantToken: GRANT,
        expiresIn: String(EXPIRY),
        redirectUrl: ALICE.redirectUrl,
        apiDomain: ALICE.apiDomain,
      });
    });

    it('throws the SDK\'s "Given ID is invalid" SDKException for an unknown id, as its own stores do', async () => {
      const error = await expectSdkException(adapter.findTokenById('42'), new RegExp(`getTokenById.*${GIVEN_ID_IS_INVALID}.*"42"`));
      expect(error.message).toContain('SQLiteStore');
    });

    it('reports a malformed id as an SDKException caused by our INVALID_ARGUMENT error', async () => {
      const error = await expectSdkException(adapter.findTokenById(' 1 '), /getTokenById/);
      expect((error.cause as TokenStoreError).reason).toBe('INVALID_ARGUMENT');
    });
  });

  describe('saveToken', () => {
    it('inserts a new token, sets its id on the given object and stores the expiry as a number', async () => {
      const given = sdkToken((b) => b.clientId(CLIENT_ID).clientSecret(CLIENT_SECRET).refreshToken(`${REFRESH}2`));
      given.setAccessToken(`${ACCESS}2`);
      given.setExpiresIn('1764000123456');
      given.setUserSignature(new Z.UserSignature('bob@zylker.com:700123456'));
      await adapter.saveToken(given);
      expect(given.getId()).toBe('2');
      expect(await store.findTokenById('2')).toEqual({
        id: '2',
        userName: 'bob@zylker.com:700123456',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        refreshToken: `${REFRESH}2`,
        accessToken: `${ACCESS}2`,
        expiryTime: 1_764_000_123_456,
      });
    });

    it('updates by id, keeping the stored values of fields the SDK token lacks', async () => {
      const given = sdkToken((b) => b.id(alice.id).accessToken(`${ACCESS}9`));
      given.setExpiresIn(String(EXPIRY + 3_600_000));
      await adapter.saveToken(given);
      expect(await store.getTokens()).toEqual([{ ...alice, accessToken: `${ACCESS}9`, expiryTime: EXPIRY + 3_600_000 }]);
      // As the SDK's FileStore does, the saved row's other fields are filled into the token.
      expect(given.getRefreshToken()).toBe(REFRESH);
      expect(given.getUserSignature()?.getName()).toBe(ALICE.userName);
    });

    it('updates the row the matching rules find (user name) rather than adding a second one', async () => {
      const given = sdkToken((b) =>
        b
          .userSignature(new Z.UserSignature(ALICE.userName as string))
          .clientId(CLIENT_ID)
          .clientSecret(CLIENT_SECRET)
          .refreshToken(REFRESH),
      );
      given.setAccessToken(`${ACCESS}7`);
      await adapter.saveToken(given);
      expect(given.getId()).toBe(alice.id);
      const tokens = await store.getTokens();
      expect(tokens).toHaveLength(1);
      expect(tokens[0]?.accessToken).toBe(`${ACCESS}7`);
      expect(tokens[0]?.grantToken).toBe(GRANT);
    });

    it('refuses a token without grant, refresh or access token and changes nothing stored', async () => {
      const given = sdkToken((b) => b.userSignature(new Z.UserSignature('carol@zylker.com:1')));
      const error = await expectSdkException(adapter.saveToken(given), /saveToken.*grantToken, refreshToken or accessToken/);
      expect((error.cause as TokenStoreError).reason).toBe('INVALID_TOKEN');
      expect(await store.getTokens()).toEqual([alice]);
    });

    it('refuses an expiresIn that is not epoch milliseconds, naming the field and no secret', async () => {
      const given = sdkToken((b) => b.clientId(CLIENT_ID).clientSecret(CLIENT_SECRET).refreshToken(REFRESH).accessToken(ACCESS));
      given.setExpiresIn('in an hour');
      const error = await expectSdkException(adapter.saveToken(given), /expiresIn/);
      expect((error.cause as TokenStoreError).field).toBe('expiryTime');
      for (const secret of [ACCESS, REFRESH, CLIENT_SECRET]) expect(error.message).not.toContain(secret);
      expect(await store.getTokens()).toEqual([alice]);
    });
  });

  it('getTokens returns SDK OAuthTokens ordered by id', async () => {
    for (let i = 2; i <= 11; i++) await store.saveToken({ userName: `user${i}@zylker.com:1`, accessToken: `${ACCESS}${i}` });
    const tokens = await adapter.getTokens();
    expect(tokens.every((t) => t instanceof Z.OAuthToken)).toBe(true);
    expect(tokens.map((t) => t.getId())).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(tokens[10]?.getUserSignature()?.getName()).toBe('user11@zylker.com:1');
  });

  it('deleteToken removes one token; an unknown id is not an error', async () => {
    const bob = await store.saveToken({ userName: 'bob@zylker.com:1', accessToken: `${ACCESS}b` });
    await adapter.deleteToken(alice.id);
    await adapter.deleteToken('999');
    expect(await store.getTokens()).toEqual([bob]);
  });

  it('deleteTokens removes every token', async () => {
    await store.saveToken({ userName: 'bob@zylker.com:1', accessToken: `${ACCESS}b` });
    await adapter.deleteTokens();
    expect(await store.getTokens()).toEqual([]);
    expect(await adapter.getTokens()).toEqual([]);
  });

  it('reports a closed store as an SDKException caused by our CLOSED error', async () => {
    await store.close();
    const error = await expectSdkException(adapter.getTokens(), /getTokens - zohoSdkStore\(SQLiteStore\)/);
    expect((error.cause as TokenStoreError).reason).toBe('CLOSED');
  });
});

describe('zohoSdkStore errors and conversions', () => {
  it('scrubs secrets from the errors of a store that is not ours', async () => {
    class LeakyStore extends MemoryStore {
      override async saveToken(token: OAuthToken): Promise<StoredToken> {
        throw new Error(`Duplicate entry '${token.accessToken}' for key 'access_token'`);
      }
    }
    const adapter = zohoSdkStore(new LeakyStore(), { name: 'LeakyDB' });
    const given = sdkToken((b) => b.userSignature(new Z.UserSignature('a@b.c:1')).accessToken(ACCESS));
    const error = await expectSdkException(adapter.saveToken(given), /Exception in saveToken - LeakyDB : .*Duplicate entry/);
    expect(error.message).not.toContain(ACCESS);
    expect(String((error.cause as Error).message)).not.toContain(ACCESS);
    expect((error.cause as TokenStoreError).reason).toBe('WRITE_FAILED');
    // The store's own error stays in the chain as a scrubbed copy (name, message, stack).
    const original = (error.cause as Error).cause as Error;
    expect(original.message).toMatch(/^Duplicate entry '.+' for key 'access_token'$/);
    expect(`${original.message}\n${original.stack}`).not.toContain(ACCESS);
  });

  it('needs a TokenStore', () => {
    expect(() => zohoSdkStore({} as never)).toThrow(expect.objectContaining({ reason: 'INVALID_ARGUMENT' }));
  });

  it('says how to install the SDK when it cannot be found', () => {
    const empty = mkdtempSync(join(tmpdir(), 'ztoken-no-sdk-'));
    try {
      expect(() => zohoSdkStore(new MemoryStore(), { resolveFrom: pathToFileURL(join(empty, 'app.js')) })).toThrow(
        expect.objectContaining({
          reason: 'UNAVAILABLE',
          message: expect.stringMatching(
            /none is installed.*npm install .*@zohocrm\/typescript-sdk-8\.0.*@zohocrm\/nodejs-sdk-8\.0.*zcrmsdk/,
          ),
        }),
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('round-trips any valid token: our store -> SDK token -> saveToken -> our store', async () => {
    const text = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\u0000'));
    const token = fc.record(
      {
        userName: text,
        clientId: text,
        clientSecret: text,
        refreshToken: text,
        accessToken: text,
        grantToken: text,
        expiryTime: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        redirectUrl: text,
        apiDomain: text,
      },
      { requiredKeys: ['accessToken'] },
    );
    await fc.assert(
      fc.asyncProperty(token, async (plain) => {
        const source = new MemoryStore();
        const target = new MemoryStore();
        const saved = await source.saveToken(plain);
        const sdk = await zohoSdkStore(source).findTokenById(saved.id);
        await zohoSdkStore(target).saveToken(sdk);
        expect(await target.getTokens()).toEqual([saved]);
      }),
      { numRuns: 100 },
    );
  });
});
