/**
 * The official @zohocrm/typescript-sdk-8.0, unmodified, against our emulator, keeping its tokens
 * in our SQLiteStore through zohoSdkStore(): grant exchange, user name, Leads through
 * RecordOperations, refresh after expiry, and a restart that reuses the stored row.
 *
 * Two hooks, both public SDK surface, no SDK change:
 * - Environment: `new Environment(apiUrl, accountsTokenUrl, fileUploadUrl)` points the SDK at the
 *   emulator (the SDK POSTs to getAccountsUrl() as is, so it is the full /oauth/v2/token URL).
 * - Time: the SDK decides expiry with the real `new Date()`, the emulator with its own clock, so
 *   "an hour later" moves both: `emu.clock.advance(ms)` and a faked Date (vi.useFakeTimers, Date only).
 * Nothing is pre-filled: before its first records call the SDK fetches the module's field metadata
 * (GET /crm/v8/settings/fields?module=Leads) from the emulator and caches it under
 * `<resourcePath>/resources/`, inside this test's temporary directory.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ZohoSdk from '@zohocrm/typescript-sdk-8.0';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { zohoSdkStore } from '../../src/adapters/zoho-sdk.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { SAMPLE_LEADS } from '../../src/zoho/emulator/sample-data.js';

// The same copy of the SDK that the adapter loads (it checks its tokens with instanceof).
const Z = createRequire(import.meta.url)('@zohocrm/typescript-sdk-8.0') as typeof ZohoSdk;

const ZOHO_TOKEN = /^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/;
const HOUR_MS = 3_600_000;
const ALICE = 'alice@zylker.com:700123456';

let emu: Emulator;
let dir: string;
let store: SQLiteStore;
let grantCode: string;

function environment(): ZohoSdk.Environment {
  return new Z.Environment(emu.url, `${emu.url}/oauth/v2/token`, emu.url);
}

/** Initializes the SDK; its resource (field cache) folder is `resourcePath`, inside the temporary `dir`. */
async function initialize(code: string, resourcePath = dir, autoRefreshFields = false): Promise<ZohoSdk.OAuthToken> {
  const token = new Z.OAuthBuilder().clientId(DEFAULT_CLIENT.clientId).clientSecret(DEFAULT_CLIENT.clientSecret).grantToken(code).build();
  await new Z.InitializeBuilder()
    .environment(environment())
    .token(token)
    .store(zohoSdkStore(store))
    .SDKConfig(new Z.SDKConfigBuilder().autoRefreshFields(autoRefreshFields).build())
    .logger(new Z.LogBuilder().level(Z.Levels.OFF).build())
    .resourcePath(resourcePath)
    .initialize();
  return token as ZohoSdk.OAuthToken;
}

/** The SDK's field cache: `<resourcePath>/resources/<Utility.getFileName()>`, JSON. */
async function fieldCache(resourcePath = dir): Promise<Record<string, Record<string, Record<string, unknown>>>> {
  return JSON.parse(readFileSync(join(resourcePath, 'resources', await Z.Utility.getFileName()), 'utf8'));
}

async function fetchLeads(): Promise<ZohoSdk.Record.Record[]> {
  const params = new Z.ParameterMap();
  await params.add(Z.Record.GetRecordsParam.FIELDS, 'First_Name,Last_Name,Email,Company');
  const response = await new Z.Record.RecordOperations('Leads').getRecords(params, new Z.HeaderMap());
  expect(response.getStatusCode()).toBe(200);
  const body = response.getObject();
  if (!(body instanceof Z.Record.ResponseWrapper)) throw new Error(`expected records, got ${JSON.stringify(body)}`);
  return body.getData();
}

function expectSampleLeads(records: ZohoSdk.Record.Record[]): void {
  expect(records.map((r) => String(r.getId()))).toEqual(SAMPLE_LEADS.map((l) => l.id));
  expect(records.map((r) => r.getKeyValue('Last_Name'))).toEqual(SAMPLE_LEADS.map((l) => l.Last_Name));
  expect(records[0]?.getKeyValue('Email')).toBe(SAMPLE_LEADS[0]?.Email);
}

beforeAll(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), 'ztoken-zoho-sdk-'));
  store = new SQLiteStore({ path: join(dir, 'zohooauth.db') });
  grantCode = emu.issueGrantToken({ userEmail: 'alice@zylker.com' });
});

afterAll(async () => {
  vi.useRealTimers();
  await emu?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the official Zoho SDK with zohoSdkStore(SQLiteStore) against the emulator', () => {
  it('exchanges the grant code once and stores the token under the SDK user name email:zgid', async () => {
    const before = Date.now();
    await initialize(grantCode);
    const after = Date.now();

    expect(emu.counters.grantExchanges).toBe(1);
    const tokens = await store.getTokens();
    expect(tokens).toHaveLength(1);
    const [row] = tokens;
    expect(row).toMatchObject({
      id: '1',
      userName: ALICE,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      grantToken: grantCode,
      apiDomain: emu.url,
    });
    expect(row?.refreshToken).toMatch(ZOHO_TOKEN);
    expect(row?.accessToken).toMatch(ZOHO_TOKEN);
    expect(typeof row?.expiryTime).toBe('number');
    expect(row?.expiryTime).toBeGreaterThanOrEqual(before + HOUR_MS);
    expect(row?.expiryTime).toBeLessThanOrEqual(after + HOUR_MS);
  });

  it('fetches the Leads field metadata, then the Leads, through RecordOperations with the stored access token', async () => {
    expect(existsSync(join(dir, 'resources'))).toBe(false);
    const apiCalls = emu.counters.apiCalls;
    const records = await fetchLeads();
    expectSampleLeads(records);
    // Two authorized CRM calls: GET settings/fields?module=Leads, then GET Leads.
    expect(emu.counters.apiCalls).toBe(apiCalls + 2);
    expect(emu.counters.apiRejected).toBe(0);
    expect(emu.counters.refreshes).toBe(0);

    // The SDK built its field cache from the emulator's answer ...
    const { leads } = await fieldCache();
    expect(leads?.Last_Name).toEqual({ name: 'Last_Name', type: 'String', required: true });
    expect(leads?.Email).toEqual({ name: 'Email', type: 'String' });
    expect(leads?.Owner).toMatchObject({ name: 'Owner', lookup: true });
    expect(leads?.Lead_Source).toMatchObject({ name: 'Lead_Source', type: 'utils/util/choice', picklist: true });
    expect(leads?.Lead_Source?.values).toEqual(expect.arrayContaining(SAMPLE_LEADS.map((l) => l.Lead_Source)));
    // ... and read the records with it: picklist values become Choices, the id a Long.
    const source = records[0]?.getKeyValue('Lead_Source');
    expect(source).toBeInstanceOf(Z.Choice);
    expect((source as ZohoSdk.Choice<string>).getValue()).toBe(SAMPLE_LEADS[0]?.Lead_Source);
    expect(records[0]?.getId()).toBe(BigInt(SAMPLE_LEADS[0]?.id ?? 0));
  });

  it('refreshes once the access token has expired and saves the new one in our store', async () => {
    const [old] = await store.getTokens();
    const later = Date.now() + HOUR_MS + 60_000;
    emu.clock.advance(HOUR_MS + 60_000);
    vi.useFakeTimers({ toFake: ['Date'], now: later });

    const apiCalls = emu.counters.apiCalls;
    expectSampleLeads(await fetchLeads());

    // The field metadata comes from the SDK's cache now: one CRM call, with the refreshed token.
    expect(emu.counters.apiCalls).toBe(apiCalls + 1);
    expect(emu.counters.refreshes).toBe(1);
    expect(emu.counters.grantExchanges).toBe(1);
    expect(emu.counters.apiRejected).toBe(0);
    const tokens = await store.getTokens();
    expect(tokens).toHaveLength(1);
    const [row] = tokens;
    expect(row?.id).toBe(old?.id);
    expect(row?.userName).toBe(ALICE);
    expect(row?.refreshToken).toBe(old?.refreshToken);
    expect(row?.accessToken).toMatch(ZOHO_TOKEN);
    expect(row?.accessToken).not.toBe(old?.accessToken);
    expect(row?.expiryTime).toBe(later + HOUR_MS);
    expect(row?.grantToken).toBe(grantCode);
  });

  it('a restart with the same grant code reuses the stored row instead of spending the code again', async () => {
    const tokenRequests = emu.counters.tokenRequests;
    const [stored] = await store.getTokens();

    await initialize(grantCode);
    expectSampleLeads(await fetchLeads());

    expect(emu.counters.grantExchanges).toBe(1);
    expect(emu.counters.tokenRequests).toBe(tokenRequests);
    expect(emu.counters.rejected).toEqual({});
    expect(await store.getTokens()).toEqual([stored]);
  });

  it("a second user gets a row of its own, which the SDK's OAuthToken.remove() deletes through the adapter", async () => {
    const bob = await initialize(emu.issueGrantToken({ userEmail: 'bob@zylker.com' }));

    expect(emu.counters.grantExchanges).toBe(2);
    const tokens = await store.getTokens();
    expect(tokens.map((t) => [t.id, t.userName])).toEqual([
      ['1', ALICE],
      ['2', 'bob@zylker.com:700123456'],
    ]);
    expect(tokens[1]?.refreshToken).not.toBe(tokens[0]?.refreshToken);

    expect(bob.getId()).toBe('2');
    expect(await bob.remove()).toBe(true);
    expect((await store.getTokens()).map((t) => t.userName)).toEqual([ALICE]);
  });

  it('with autoRefreshFields the SDK reads the module list, then the Leads fields, from the emulator', async () => {
    const resourcePath = mkdtempSync(join(dir, 'auto-refresh-'));
    await initialize(grantCode, resourcePath, true);
    const apiCalls = emu.counters.apiCalls;

    expectSampleLeads(await fetchLeads());

    // GET settings/modules, GET settings/fields?module=Leads (its one API module), GET Leads.
    expect(emu.counters.apiCalls).toBe(apiCalls + 3);
    expect(emu.counters.apiRejected).toBe(0);
    const cache = await fieldCache(resourcePath);
    expect(cache['SDK-MODULE-METADATA']).toEqual({ leads: { api_name: 'Leads', generated_type: 'default' } });
    expect(cache.leads?.Last_Name).toEqual({ name: 'Last_Name', type: 'String', required: true });
  });
});
