/**
 * zohoSdkStore() with every official SDK family, each the real package (dev dependencies under
 * npm aliases, linked under their real names into a temporary application directory):
 * detection, the SDK's own instanceof checks, and every store method driven with the SDK's own
 * token and user classes, over a MemoryStore and a SQLiteStore.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GIVEN_ID_IS_INVALID, SDK_TOKEN_STORE_CODE, zohoSdkStore, zohoSdkStoreAsync } from '../../src/adapters/zoho-sdk.js';
import type { TokenStore } from '../../src/store.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import type { OAuthToken } from '../../src/token.js';
import { type AnyClass, appWith, FAMILIES, type FamilyUnderTest } from './helpers/sdk-families.js';

const CLIENT_ID = '1000.FAMILYTESTCLIENT0000000000000';
const CLIENT_SECRET = 'family-secret-0123456789abcdef0123';
const ACCESS = '1000.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const REFRESH = '1000.cccccccccccccccccccccccccccccccc.dddddddddddddddddddddddddddddddd';
const GRANT = '1000.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.ffffffffffffffffffffffffffffffff';
const EXPIRY = 1_764_000_000_000;
const EMAIL = 'alice@zylker.com';

type Method = (...args: unknown[]) => Promise<unknown>;
/** Both method sets: each family's adapter has one of them (checked by the tests, not by this type). */
interface Adapter {
  family: string;
  store: TokenStore;
  findToken: Method;
  findTokenById: Method;
  getToken: Method;
  getTokenById: Method;
  saveToken: Method;
  deleteToken: Method;
  getTokens: Method;
  deleteTokens: Method;
}

interface SdkError {
  code: string;
  message: string;
  cause: unknown;
}

async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as SdkError,
  );
}

let app: { dir: string; cleanup(): void };
beforeAll(() => {
  app = appWith(FAMILIES);
});
afterAll(() => app.cleanup());

describe.each(FAMILIES)('$family ($packageName)', (f: FamilyUnderTest) => {
  /** The application's view: only this family installed. */
  let own: { dir: string; cleanup(): void };
  beforeAll(() => {
    own = appWith([f]);
  });
  afterAll(() => own.cleanup());

  it('is detected from resolveFrom (a directory whose node_modules holds it under its real name)', () => {
    const adapter = zohoSdkStore(new MemoryStore(), { resolveFrom: own.dir }) as unknown as Adapter;
    expect(adapter.family).toBe(f.family);
  });

  it('is detected from the module given as { sdk }', async () => {
    const viaRequire = zohoSdkStore(new MemoryStore(), { sdk: f.load() }) as unknown as Adapter;
    expect(viaRequire.family).toBe(f.family);
    // An ESM import of the package (a namespace object, not require's exports) works too.
    const entry = createRequire(join(own.dir, 'noop.js')).resolve(f.packageName);
    const viaImport = zohoSdkStore(new MemoryStore(), { sdk: await import(pathToFileURL(entry).href) }) as unknown as Adapter;
    expect(viaImport.family).toBe(f.family);
  });

  it('is picked by { family } among several installed SDKs, and several without it is an error naming them', () => {
    expect((zohoSdkStore(new MemoryStore(), { resolveFrom: app.dir, family: f.family }) as unknown as Adapter).family).toBe(f.family);
    expect(() => zohoSdkStore(new MemoryStore(), { resolveFrom: app.dir })).toThrow(
      expect.objectContaining({ reason: 'INVALID_ARGUMENT', message: expect.stringContaining(`${f.packageName}@`) }),
    );
  });

  it('loads with zohoSdkStoreAsync (import() for the ESM families)', async () => {
    const adapter = (await zohoSdkStoreAsync(new MemoryStore(), { resolveFrom: own.dir })) as unknown as Adapter;
    expect(adapter.family).toBe(f.family);
    expect(Object.keys(adapter).sort()).toEqual(Object.keys(zohoSdkStore(new MemoryStore(), { resolveFrom: own.dir })).sort());
  });

  it("passes the SDK's own store check", async () => {
    const adapter = zohoSdkStore(new MemoryStore(), { resolveFrom: own.dir });
    const { TokenStore: Base } = f.classes();
    if (f.checksStore) {
      expect(Base).toBeTypeOf('function');
      expect(adapter).toBeInstanceOf(Base as AnyClass);
    }
    if (f.family === 'zcrmsdk-1') {
      // zcrmsdk has no builder: Initializer.initialize() checks user, environment, token and store.
      const Initializer = f.load().Initializer as {
        initialize(...a: unknown[]): Promise<void>;
        getInitializer(): Promise<{ store: unknown }>;
      };
      const Environment = f.load('routes/dc/environment.js').Environment as new (...a: unknown[]) => object;
      const SDKConfig = f.load('routes/sdk_config.js').SDKConfig as new (...a: unknown[]) => object;
      const Logger = f.load('routes/logger/logger.js').Logger as { getInstance(level: string, path: string): object };
      const dir = mkdtempSync(join(tmpdir(), 'ztoken-zcrmsdk-'));
      try {
        const env = new Environment('http://127.0.0.1:9', 'http://127.0.0.1:9/oauth/v2/token', 'http://127.0.0.1:9');
        const token = f.token({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, grantToken: GRANT });
        const init = (store: unknown) =>
          Initializer.initialize(
            f.user(EMAIL),
            env,
            token,
            store,
            new SDKConfig(false, false),
            dir,
            Logger.getInstance('error', join(dir, 'sdk.log')),
          );
        await expect(init({ ...adapter })).rejects.toThrow();
        await init(adapter);
        expect((await Initializer.getInitializer()).store).toBe(adapter);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else {
      const Builder = (f.family === 'nodejs-2' || f.family === 'ts-2' ? f.load('routes/initialize_builder.js') : f.load())
        .InitializeBuilder as new () => object;
      const builder = (await new Builder()) as { store(s: unknown): unknown };
      expect(builder.store(adapter)).toBe(builder);
      // The check is real: a plain object with the same methods is refused by the JS SDKs.
      if (f.checksStore) expect(() => builder.store({ ...adapter })).toThrow();
    }
  });

  describe.each([
    { kind: 'MemoryStore', open: (_dir: string): TokenStore => new MemoryStore() },
    { kind: 'SQLiteStore', open: (dir: string): TokenStore => new SQLiteStore({ path: join(dir, 'zohooauth.db') }) },
  ])('over $kind', ({ open }) => {
    let dir: string;
    let store: TokenStore;
    let adapter: Adapter;
    const C = () => f.classes();

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'ztoken-sdk-family-'));
      store = open(dir);
      adapter = zohoSdkStore(store, { resolveFrom: own.dir }) as unknown as Adapter;
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Saves a token the SDK way for this family (after a grant exchange: access token, expiry, the user). */
    async function sdkSave(fields = {}): Promise<object> {
      const token = f.token({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        grantToken: GRANT,
        redirectUrl: 'https://app.example.com/cb',
        ...fields,
      });
      if (f.family === 'zcrmsdk-1') {
        Object.assign(token, { accessToken: ACCESS, refreshToken: REFRESH, expiresIn: String(EXPIRY) });
      } else {
        const t = token as Record<string, (v: unknown) => void>;
        t.setAccessToken?.(ACCESS);
        t.setRefreshToken?.(REFRESH);
        t.setExpiresIn?.(String(EXPIRY));
      }
      if (f.api === 'token') {
        (token as { setUserSignature(u: object): void }).setUserSignature(f.user(EMAIL));
        (token as { setAPIDomain(d: string): void }).setAPIDomain('https://www.zohoapis.eu');
        await adapter.saveToken(token);
      } else {
        await adapter.saveToken(f.user(EMAIL), token);
      }
      return token;
    }

    const STORED: OAuthToken = {
      userName: EMAIL,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      refreshToken: REFRESH,
      accessToken: ACCESS,
      grantToken: GRANT,
      expiryTime: EXPIRY,
      redirectUrl: 'https://app.example.com/cb',
    };

    it('saveToken stores every field the SDK token holds and sets the new id on it', async () => {
      const token = await sdkSave();
      expect(f.read(token).id).toBe('1');
      expect(f.read(token).userName).toBe(EMAIL);
      expect(await store.getTokens()).toEqual([{ id: '1', ...STORED, ...(f.apiDomain ? { apiDomain: 'https://www.zohoapis.eu' } : {}) }]);
    });

    it('saveToken again updates the same row, never a second one', async () => {
      await sdkSave();
      const again = await sdkSave();
      expect(f.read(again).id).toBe('1');
      expect(await store.getTokens()).toHaveLength(1);
    });

    it('saveToken keeps a field the family lacks (api_domain on v2/zcrmsdk) and a field the token lacks', async () => {
      await store.saveToken({ ...STORED, accessToken: `${ACCESS}old`, apiDomain: 'https://www.zohoapis.in' });
      const token = f.token({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: REFRESH });
      if (f.family === 'zcrmsdk-1') Object.assign(token, { accessToken: ACCESS, expiresIn: String(EXPIRY + 1) });
      else {
        (token as Record<string, (v: unknown) => void>).setAccessToken?.(ACCESS);
        (token as Record<string, (v: unknown) => void>).setExpiresIn?.(String(EXPIRY + 1));
      }
      if (f.api === 'token') await adapter.saveToken(token);
      else await adapter.saveToken(f.user(EMAIL), token);
      expect(await store.getTokens()).toEqual([{ id: '1', ...STORED, expiryTime: EXPIRY + 1, apiDomain: 'https://www.zohoapis.in' }]);
    });

    it('finds the token the SDK asks for and fills that same object', async () => {
      await sdkSave();
      const asked = f.token({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, grantToken: GRANT });
      const found = f.api === 'token' ? await adapter.findToken(asked) : await adapter.getToken(f.user(EMAIL), asked);
      expect(found).toBe(asked);
      expect(found).toBeInstanceOf(C().OAuthToken);
      expect(f.read(asked)).toMatchObject({
        id: '1',
        userName: EMAIL,
        accessToken: ACCESS,
        refreshToken: REFRESH,
        expiresIn: String(EXPIRY),
      });
      if (f.api === 'token') {
        expect((asked as { getUserSignature(): object }).getUserSignature()).toBeInstanceOf(C().UserSignature);
      }
    });

    it('answers null when nothing matches, leaving the token as it was', async () => {
      await sdkSave();
      const asked = f.token({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, grantToken: '1000.unknown-grant' });
      const before = f.read(asked);
      const user = f.api === 'token' ? null : f.user('bob@zylker.com');
      expect(f.api === 'token' ? await adapter.findToken(asked) : await adapter.getToken(user, asked)).toBeNull();
      expect(f.read(asked)).toEqual(before);
    });

    it('by id: a token of the SDK for a known id, "Given ID is invalid" for an unknown one', async () => {
      if (!f.getTokenById) {
        expect(adapter.getTokenById).toBeUndefined();
        expect(adapter.findTokenById).toBeUndefined();
        return;
      }
      await sdkSave();
      const byId = f.api === 'token' ? await adapter.findTokenById('1') : await adapter.getTokenById('1', f.token({ id: '1' }));
      expect(byId).toBeInstanceOf(C().OAuthToken);
      expect(f.read(byId as object)).toMatchObject({
        id: '1',
        userName: EMAIL,
        clientSecret: CLIENT_SECRET,
        grantToken: GRANT,
        expiresIn: String(EXPIRY),
      });
      const error = await rejection(f.api === 'token' ? adapter.findTokenById('42') : adapter.getTokenById('42', f.token({ id: '42' })));
      expect(error).toBeInstanceOf(C().SDKException);
      expect(error.code).toBe(SDK_TOKEN_STORE_CODE);
      expect(error.message).toContain(GIVEN_ID_IS_INVALID);
    });

    it('getTokens answers instances of the SDK OAuthToken with every stored field', async () => {
      await sdkSave();
      await store.saveToken({ userName: 'bob@zylker.com', clientId: CLIENT_ID, accessToken: `${ACCESS}b` });
      const tokens = (await adapter.getTokens()) as object[];
      expect(tokens.map((t) => t instanceof C().OAuthToken)).toEqual([true, true]);
      expect(tokens.map((t) => f.read(t).id)).toEqual(['1', '2']);
      expect(f.read(tokens[0] as object)).toMatchObject({
        userName: EMAIL,
        clientId: CLIENT_ID,
        refreshToken: REFRESH,
        grantToken: GRANT,
        redirectUrl: 'https://app.example.com/cb',
      });
      expect(f.read(tokens[1] as object)).toMatchObject({ userName: 'bob@zylker.com', accessToken: `${ACCESS}b` });
    });

    it('deleteToken removes only the token meant, deleteTokens all', async () => {
      const alice = await sdkSave();
      await store.saveToken({ userName: 'bob@zylker.com', accessToken: `${ACCESS}b` });
      if (f.api === 'token') {
        await adapter.deleteToken('1');
        await adapter.deleteToken('999');
      } else {
        await adapter.deleteToken(alice);
        await adapter.deleteToken(f.token({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, grantToken: '1000.nobody' }));
      }
      expect((await store.getTokens()).map((t) => t.userName)).toEqual(['bob@zylker.com']);
      await adapter.deleteTokens();
      expect(await store.getTokens()).toEqual([]);
    });

    it("refuses what is not the SDK's OAuthToken with its SDKException, storing nothing", async () => {
      const error = await rejection(
        f.api === 'token' ? adapter.saveToken({ accessToken: ACCESS }) : adapter.saveToken(f.user(EMAIL), { accessToken: ACCESS }),
      );
      expect(error).toBeInstanceOf(C().SDKException);
      expect(error.message).toContain(f.packageName);
      expect(error.message).not.toContain(ACCESS);
      expect(await store.getTokens()).toEqual([]);
    });

    if (f.api === 'user-token' && f.family !== 'zcrmsdk-1') {
      it('replaces an id the v2 SDK made up (nodejs_alice_PRD_abcd) with the store id, set back on the token', async () => {
        const token = await sdkSave({ id: `${f.family.startsWith('ts') ? 'typescript' : 'nodejs'}_alice_PRD_dddd` });
        expect(f.read(token).id).toBe('1');
        expect((await store.getTokens()).map((t) => t.id)).toEqual(['1']);
      });
    }
  });
});

describe('resolution', () => {
  it('without options resolves from process.cwd(): this checkout has @zohocrm/typescript-sdk-8.0 under its real name', () => {
    expect((zohoSdkStore(new MemoryStore()) as unknown as Adapter).family).toBe('ts-8');
  });

  it('names the missing package when nothing is installed, or the one asked for', () => {
    const empty = mkdtempSync(join(tmpdir(), 'ztoken-no-sdk-'));
    try {
      expect(() => zohoSdkStore(new MemoryStore(), { resolveFrom: empty })).toThrow(
        expect.objectContaining({ reason: 'UNAVAILABLE', message: expect.stringContaining('@zohocrm/nodejs-sdk-2.0, zcrmsdk') }),
      );
      expect(() => zohoSdkStore(new MemoryStore(), { resolveFrom: empty, family: 'nodejs-8' })).toThrow(
        expect.objectContaining({ reason: 'UNAVAILABLE', message: expect.stringMatching(/npm install @zohocrm\/nodejs-sdk-8\.0$/) }),
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses an { sdk } that is no Zoho SDK, and a family that does not match the module', () => {
    expect(() => zohoSdkStore(new MemoryStore(), { sdk: { OAuthToken: class {} } })).toThrow(
      expect.objectContaining({ reason: 'INVALID_ARGUMENT', message: expect.stringContaining('cannot tell which official Zoho SDK') }),
    );
    const ts8 = FAMILIES.find((f) => f.family === 'ts-8') as FamilyUnderTest;
    expect(() => zohoSdkStore(new MemoryStore(), { sdk: ts8.load(), family: 'ts-7' })).toThrow(
      expect.objectContaining({ reason: 'INVALID_ARGUMENT', message: expect.stringContaining('not the ts-7 family') }),
    );
    expect(() => zohoSdkStore(new MemoryStore(), { family: 'ts-9' as never })).toThrow(
      expect.objectContaining({ reason: 'INVALID_ARGUMENT' }),
    );
  });
});
