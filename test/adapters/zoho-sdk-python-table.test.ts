/**
 * Every official SDK family, through zohoSdkStore(), on a Python SDK 8.0 MultiDBStore table
 * (uuid ids, made by hand exactly as SQLAlchemy makes it) on SQLite and PostgreSQL: the uuid the
 * store gives is set on the SDK's token and accepted back by every method, while ids the store
 * refuses stay refused. Then the real @zohocrm/typescript-sdk-8.0 end to end against the emulator
 * on such a table: grant exchange, Leads, refresh, a second user removed by its uuid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ZohoSdk from '@zohocrm/typescript-sdk-8.0';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { zohoSdkStore } from '../../src/adapters/zoho-sdk.js';
import type { TokenStore } from '../../src/store.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { SAMPLE_LEADS } from '../../src/zoho/emulator/sample-data.js';
import { POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { postgresTarget } from '../stores/helpers/sql-admin.js';
import { PYTHON_COLUMNS, pythonDdl, type RawSql, rawPostgres, rawSqlite } from '../stores/helpers/sql-layout-tables.js';
import { appWith, FAMILIES, type FamilyUnderTest } from './helpers/sdk-families.js';

const Z = createRequire(import.meta.url)('@zohocrm/typescript-sdk-8.0') as typeof ZohoSdk;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CLIENT_ID = '1000.PYTABLECLIENT000000000000000';
const CLIENT_SECRET = 'py-table-secret-0123456789abcdef01';
const ACCESS = '1000.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const REFRESH = '1000.cccccccccccccccccccccccccccccccc.dddddddddddddddddddddddddddddddd';
const GRANT = '1000.eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.ffffffffffffffffffffffffffffffff';
const EXPIRY = 1_764_000_000_000;
const EMAIL = 'alice@zylker.com';
const HOUR_MS = 3_600_000;

type Method = (...args: unknown[]) => Promise<unknown>;
type Adapter = Record<'findToken' | 'findTokenById' | 'getToken' | 'getTokenById' | 'saveToken' | 'deleteToken' | 'getTokens', Method>;

interface Engine {
  name: string;
  available: boolean;
  raw(): Promise<RawSql & { path?: string }>;
  open(raw: RawSql & { path?: string }, table: string): TokenStore;
}

const postgresUp = await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL');
const ENGINES: Engine[] = [
  {
    name: 'SQLite',
    available: true,
    raw: async () => rawSqlite(),
    open: (raw, table) => new SQLiteStore({ path: raw.path as string, table }),
  },
  { name: 'PostgreSQL', available: postgresUp, raw: rawPostgres, open: (_raw, table) => new PostgresStore({ ...postgresTarget(), table }) },
];

/** A Python table of its own for each test group: made by hand, dropped after. */
function pythonTable(engine: Engine): { raw(): RawSql & { path?: string }; table: string } {
  const table = uniqueName('zt_pyadapt');
  let raw: (RawSql & { path?: string }) | undefined;
  beforeAll(async () => {
    raw = await engine.raw();
    for (const statement of pythonDdl(table)) await raw.query(statement);
  });
  afterAll(async () => {
    await raw?.query(`DROP TABLE IF EXISTS ${table}`);
    await raw?.end();
  });
  return { raw: () => raw as RawSql, table };
}

/** A token as the family's SDK holds it after a grant exchange. */
function exchanged(f: FamilyUnderTest, id?: string): object {
  const token = f.token({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, grantToken: GRANT, redirectUrl: 'https://app.example.com/cb' });
  const fields = { accessToken: ACCESS, refreshToken: REFRESH, expiresIn: String(EXPIRY), ...(id ? { id } : {}) };
  if (f.family === 'zcrmsdk-1') return Object.assign(token, fields);
  const t = token as Record<string, (v: unknown) => void>;
  t.setAccessToken?.(fields.accessToken);
  t.setRefreshToken?.(fields.refreshToken);
  t.setExpiresIn?.(fields.expiresIn);
  if (id) t.setId?.(id);
  if (f.api === 'token') {
    (token as { setUserSignature(u: object): void }).setUserSignature(f.user(EMAIL));
    (token as { setAPIDomain(d: string): void }).setAPIDomain('https://www.zohoapis.eu');
  }
  return token;
}

const save = (f: FamilyUnderTest, adapter: Adapter, token: object) =>
  f.api === 'token' ? adapter.saveToken(token) : adapter.saveToken(f.user(EMAIL), token);
const find = (f: FamilyUnderTest, adapter: Adapter, token: object) =>
  f.api === 'token' ? adapter.findToken(token) : adapter.getToken(f.user(EMAIL), token);

let app: { dir: string; cleanup(): void };
beforeAll(() => {
  app = appWith(FAMILIES);
});
afterAll(() => app.cleanup());

for (const engine of ENGINES) {
  describe.skipIf(!engine.available)(`${engine.name}: every SDK family through the adapter on a Python MultiDBStore table`, () => {
    const { raw, table } = pythonTable(engine);
    let store: TokenStore;
    beforeAll(() => {
      store = engine.open(raw(), table);
    });
    afterAll(() => store?.close());
    beforeEach(() => store.deleteTokens());

    describe.each(FAMILIES)('$family', (f) => {
      const adapter = () => zohoSdkStore(store, { resolveFrom: app.dir, family: f.family }) as unknown as Adapter;

      it('saves with a uuid id set on the SDK token, finds, updates and deletes by that uuid', async () => {
        const token = exchanged(f);
        await save(f, adapter(), token);
        const id = f.read(token).id as string;
        expect(id).toMatch(UUID_V4);
        const [row] = await raw().query(`SELECT ${PYTHON_COLUMNS.join(', ')} FROM ${table}`);
        expect(row).toEqual({
          id,
          user_name: EMAIL,
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          refresh_token: REFRESH,
          access_token: ACCESS,
          grant_token: GRANT,
          redirect_url: 'https://app.example.com/cb',
          api_domain: f.apiDomain ? 'https://www.zohoapis.eu' : null,
          expiry_time: String(EXPIRY),
        });

        // The token now carries the uuid: the SDK asks and saves with it, on the same row.
        const asked = f.token({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, grantToken: GRANT, id });
        expect(await find(f, adapter(), asked)).toBe(asked);
        expect(f.read(asked)).toMatchObject({ id, userName: EMAIL, accessToken: ACCESS });
        if (f.family === 'zcrmsdk-1') Object.assign(token, { accessToken: `${ACCESS}2` });
        else (token as { setAccessToken(v: string): void }).setAccessToken(`${ACCESS}2`);
        await save(f, adapter(), token);
        expect(await raw().query(`SELECT id, access_token FROM ${table}`)).toEqual([{ id, access_token: `${ACCESS}2` }]);
        if (f.getTokenById) {
          const byId = f.api === 'token' ? await adapter().findTokenById(id) : await adapter().getTokenById(id, f.token({ id }));
          expect(f.read(byId as object)).toMatchObject({ id, userName: EMAIL, refreshToken: REFRESH });
        }
        expect(((await adapter().getTokens()) as object[]).map((t) => f.read(t).id)).toEqual([id]);

        await (f.api === 'token' ? adapter().deleteToken(id) : adapter().deleteToken(asked));
        expect(await raw().query(`SELECT id FROM ${table}`)).toEqual([]);
      });

      it("keeps refusing hostile ids (the stores' own id rule), storing nothing", async () => {
        for (const hostile of [`${'9'.repeat(300)}`, ' 1', 'a\u0000b', 'x\ny']) {
          const error = (await save(f, adapter(), exchanged(f, hostile)).then(
            () => null,
            (e: unknown) => e,
          )) as { code?: string; message?: string; cause?: { reason?: string; field?: string } } | null;
          expect(error, JSON.stringify(hostile)).not.toBeNull();
          expect(error?.code).toBe('TOKEN_STORE');
          expect(error?.cause).toMatchObject({ reason: 'INVALID_ARGUMENT', field: 'id' });
          expect(error?.message).not.toContain(ACCESS);
        }
        if (f.getTokenById) {
          const byId =
            f.api === 'token' ? adapter().findTokenById('x'.repeat(37)) : adapter().getTokenById('x'.repeat(37), f.token({ id: '1' }));
          await expect(byId).rejects.toMatchObject({ code: 'TOKEN_STORE', cause: expect.objectContaining({ reason: 'INVALID_ARGUMENT' }) });
        }
        expect(await raw().query(`SELECT id FROM ${table}`)).toEqual([]);
      });
    });
  });

  describe.skipIf(!engine.available)(`${engine.name}: @zohocrm/typescript-sdk-8.0 against the emulator on a Python table`, () => {
    const { raw, table } = pythonTable(engine);
    let emu: Emulator;
    let store: TokenStore;
    let resources: string;
    beforeAll(async () => {
      emu = await startEmulator();
      store = engine.open(raw(), table);
      resources = mkdtempSync(join(tmpdir(), 'ztoken-py-sdk-'));
    });
    afterAll(async () => {
      vi.useRealTimers();
      await emu?.close();
      await store?.close();
      if (resources) rmSync(resources, { recursive: true, force: true });
    });

    async function initialize(code: string): Promise<ZohoSdk.OAuthToken> {
      const token = new Z.OAuthBuilder()
        .clientId(DEFAULT_CLIENT.clientId)
        .clientSecret(DEFAULT_CLIENT.clientSecret)
        .grantToken(code)
        .build();
      await new Z.InitializeBuilder()
        .environment(new Z.Environment(emu.url, `${emu.url}/oauth/v2/token`, emu.url))
        .token(token)
        .store(zohoSdkStore(store))
        .SDKConfig(new Z.SDKConfigBuilder().autoRefreshFields(false).build())
        .logger(new Z.LogBuilder().level(Z.Levels.OFF).build())
        .resourcePath(resources)
        .initialize();
      return token as ZohoSdk.OAuthToken;
    }

    async function leadNames(): Promise<unknown[]> {
      const params = new Z.ParameterMap();
      await params.add(Z.Record.GetRecordsParam.FIELDS, 'Last_Name');
      const body = (await new Z.Record.RecordOperations('Leads').getRecords(params, new Z.HeaderMap())).getObject();
      if (!(body instanceof Z.Record.ResponseWrapper)) throw new Error(`expected records, got ${JSON.stringify(body)}`);
      return body.getData().map((r) => r.getKeyValue('Last_Name'));
    }

    it('exchanges the grant, calls the CRM, refreshes after an hour and removes a second user, all on uuid rows', async () => {
      const alice = await initialize(emu.issueGrantToken({ userEmail: 'alice@zylker.com' }));
      expect(await leadNames()).toEqual(SAMPLE_LEADS.map((l) => l.Last_Name));
      const [first] = await raw().query(`SELECT id, user_name, access_token, expiry_time FROM ${table}`);
      expect(first?.id).toMatch(UUID_V4);
      expect(alice.getId()).toBe(first?.id);
      expect(first?.user_name).toBe('alice@zylker.com:700123456');

      // An hour later the SDK finds the row by its uuid, refreshes, and saves under the same uuid.
      const later = Date.now() + HOUR_MS + 60_000;
      emu.clock.advance(HOUR_MS + 60_000);
      vi.useFakeTimers({ toFake: ['Date'], now: later });
      expect(await leadNames()).toEqual(SAMPLE_LEADS.map((l) => l.Last_Name));
      expect(emu.counters.refreshes).toBe(1);
      expect(emu.counters.apiRejected).toBe(0);
      const rows = await raw().query(`SELECT id, access_token, expiry_time FROM ${table}`);
      expect(rows).toEqual([
        { id: first?.id, access_token: expect.not.stringMatching(String(first?.access_token)), expiry_time: String(later + HOUR_MS) },
      ]);

      const bob = await initialize(emu.issueGrantToken({ userEmail: 'bob@zylker.com' }));
      expect(bob.getId()).toMatch(UUID_V4);
      expect(bob.getId()).not.toBe(first?.id);
      expect(await bob.remove()).toBe(true);
      expect(await raw().query(`SELECT id FROM ${table}`)).toEqual([{ id: first?.id }]);
    });
  });
}
