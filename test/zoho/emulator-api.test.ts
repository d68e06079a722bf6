import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, INVALID_TOKEN_BODY, refreshTokenHandle, startEmulator } from '../../src/zoho/emulator/index.js';
import { CLIENT_SECRET, crm, exchangeParams, newTokens, postForm, refreshRaw, ZOHO_TOKEN } from './helpers.js';

const START = Date.UTC(2025, 5, 1, 12, 0, 0);
const INVALID = { code: 'INVALID_TOKEN', details: {}, message: 'invalid oauth token', status: 'error' };

let emu: Emulator;
beforeEach(async () => {
  emu = await startEmulator({ startTime: START });
});
afterEach(async () => {
  await emu.close();
});

describe('CRM API', () => {
  it('GET users?type=CurrentUser names the token user', async () => {
    const { access_token } = await newTokens(emu, 'bob@zylker.com');
    const { status, body } = await crm(emu, '/crm/v8/users?type=CurrentUser', access_token);
    expect(status).toBe(200);
    const users = body.users as Record<string, unknown>[];
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({
      email: 'bob@zylker.com',
      full_name: 'Bob Zylker',
      first_name: 'Bob',
      last_name: 'Zylker',
      status: 'active',
    });
    expect(users[0]?.id).toMatch(/^\d{19}$/);
    expect(body.info).toEqual({ per_page: 200, count: 1, page: 1, more_records: false });
    const all = await crm(emu, '/crm/v8/users', access_token);
    expect((all.body.users as { email: string }[]).map((u) => u.email)).toEqual(['alice@zylker.com', 'bob@zylker.com']);
  });

  it('GET org answers the zgid and company (also on other API versions)', async () => {
    emu.addUser({ email: 'carol@acme.com', zgid: '800999111', name: 'Carol Acme' });
    const { access_token } = await newTokens(emu, 'carol@acme.com');
    for (const path of ['/crm/v8/org', '/crm/v2/org', '/crm/v2.1/org']) {
      const { status, body } = await crm(emu, path, access_token);
      expect(status).toBe(200);
      expect((body.org as Record<string, unknown>[])[0]).toMatchObject({
        zgid: '800999111',
        company_name: 'Acme',
        primary_email: 'carol@acme.com',
      });
    }
    const alice = await newTokens(emu);
    expect(((await crm(emu, '/crm/v8/org', alice.access_token)).body.org as { zgid: string }[])[0]?.zgid).toBe('700123456');
  });

  it('GET Leads lists sample records with paging, and Leads/{id} one record', async () => {
    const { access_token } = await newTokens(emu);
    const list = await crm(emu, '/crm/v8/Leads', access_token);
    expect(list.status).toBe(200);
    const data = list.body.data as Record<string, unknown>[];
    expect(data).toHaveLength(5);
    expect(data[0]).toMatchObject({
      id: '4876876000000333001',
      Last_Name: 'Maclead',
      Full_Name: 'Christopher Maclead',
      Owner: { email: 'alice@zylker.com' },
    });
    expect(list.body.info).toMatchObject({ per_page: 200, count: 5, page: 1, more_records: false });

    const page = await crm(emu, '/crm/v8/Leads?per_page=2&page=2', access_token);
    expect((page.body.data as { id: string }[]).map((l) => l.id)).toEqual(['4876876000000333003', '4876876000000333004']);
    expect(page.body.info).toMatchObject({ per_page: 2, count: 2, page: 2, more_records: true });
    const past = await fetch(`${emu.url}/crm/v8/Leads?page=9`, { headers: { authorization: `Zoho-oauthtoken ${access_token}` } });
    expect(past.status).toBe(204);

    const one = await crm(emu, '/crm/v8/Leads/4876876000000333002', access_token);
    expect(one.status).toBe(200);
    expect(one.body.data).toEqual([expect.objectContaining({ id: '4876876000000333002', Company: 'Oh My Goodknits Inc' })]);
    const none = await fetch(`${emu.url}/crm/v8/Leads/1`, { headers: { authorization: `Zoho-oauthtoken ${access_token}` } });
    expect(none.status).toBe(204);
  });

  it('answers 401 INVALID_TOKEN for missing, unknown, mis-schemed, expired, displaced and revoked tokens', async () => {
    expect(INVALID_TOKEN_BODY).toEqual(INVALID);
    const a = await newTokens(emu);
    const b = await newTokens(emu);
    const c = await newTokens(emu);
    const d = await newTokens(emu);
    expect((await crm(emu, '/crm/v8/org', a.access_token)).status).toBe(200);
    const checks: [string | undefined, string?][] = [[undefined], ['1000.unknown.token'], [a.access_token, 'Bearer'], ['']];
    for (const [token, scheme] of checks)
      expect(await crm(emu, '/crm/v8/org', token, scheme)).toMatchObject({ status: 401, body: INVALID });
    expect(emu.invalidateAccessToken(b.access_token)).toBe(true);
    expect(emu.invalidateAccessToken(b.access_token)).toBe(false);
    expect(await crm(emu, '/crm/v8/Leads', b.access_token)).toMatchObject({ status: 401, body: INVALID });
    emu.revokeRefreshToken(c.refresh_token);
    expect(await crm(emu, '/crm/v8/users?type=CurrentUser', c.access_token)).toMatchObject({ status: 401, body: INVALID });
    expect(emu.expireAccessTokens()).toBe(2); // a and d were still live
    expect(await crm(emu, '/crm/v8/org', d.access_token)).toMatchObject({ status: 401, body: INVALID });
    // A refresh after expireAccessTokens gives a working token.
    const fresh = await refreshRaw(emu, d.refresh_token);
    expect((await crm(emu, '/crm/v8/org', fresh.body.access_token as string)).status).toBe(200);
    expect(emu.counters).toMatchObject({ apiCalls: 9, apiRejected: 7 });
  });

  it('answers 404 JSON for unknown paths and 405 for other methods', async () => {
    const { access_token } = await newTokens(emu);
    const unknownCrm = await crm(emu, '/crm/v8/Nope/1/2', access_token);
    expect(unknownCrm).toMatchObject({ status: 404, body: { code: 'INVALID_URL_PATTERN', status: 'error' } });
    const elsewhere = await crm(emu, '/whatever');
    expect(elsewhere).toMatchObject({ status: 404, body: { code: 'INVALID_URL_PATTERN' } });
    const post = await fetch(`${emu.url}/crm/v8/Leads`, { method: 'POST', headers: { authorization: `Zoho-oauthtoken ${access_token}` } });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ code: 'INVALID_REQUEST_METHOD' });
  });

  it('adds latencyMs to Zoho answers', async () => {
    const slow = await startEmulator({ latencyMs: 60 });
    try {
      const t0 = performance.now();
      await crm(slow, '/crm/v8/org');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    } finally {
      await slow.close();
    }
  });
});

/** Keys Zoho's v8 FieldSchema marks required, present in every field of GET settings/fields. */
const FIELD_KEYS = (
  'api_name association_details businesscard_supported colour_code_enabled_by_system created_source currency ' +
  'custom_field data_type display_field display_label display_type email_parser enable_colour_code external ' +
  'field_label field_read_only filterable formula history_tracking_enabled id lookup mass_update ' +
  'multi_module_lookup operation_type pick_list_values pick_list_values_sorted_lexically profiles public range ' +
  'read_only rollup_summary searchable separator sortable system_mandatory type ui_type unique view_type ' +
  'virtual_field visible webhook auto_number json_type'
).split(' ');
const INVALID_MODULE = { code: 'INVALID_MODULE', details: {}, message: 'the module name given seems to be invalid', status: 'error' };

describe('CRM metadata (settings/fields, settings/modules)', () => {
  it('GET settings/fields?module=Leads describes every field of the sample lead records, in Zoho v8 shape', async () => {
    const { access_token } = await newTokens(emu);
    const { status, headers, body } = await crm(emu, '/crm/v8/settings/fields?module=Leads', access_token);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect(Object.keys(body)).toEqual(['fields']);
    const fields = body.fields as Record<string, unknown>[];
    for (const field of fields) for (const key of FIELD_KEYS) expect(field, `${String(field.api_name)}.${key}`).toHaveProperty(key);
    const ids = fields.map((f) => f.id as string);
    for (const id of ids) expect(id).toMatch(/^4876876\d{12}$/);
    expect(new Set(ids).size).toBe(fields.length);

    // Every key of a served lead record is a described field.
    const leads = (await crm(emu, '/crm/v8/Leads', access_token)).body.data as Record<string, unknown>[];
    const lead = leads[0] ?? {};
    const byName = new Map(fields.map((f) => [f.api_name as string, f]));
    expect([...byName.keys()].sort()).toEqual(Object.keys(lead).sort());

    expect(byName.get('Last_Name')).toMatchObject({
      field_label: 'Last Name',
      display_label: 'Last Name',
      data_type: 'text',
      json_type: 'string',
      system_mandatory: true,
      read_only: false,
      custom_field: false,
      length: 80,
      pick_list_values: [],
    });
    expect(byName.get('Owner')).toMatchObject({ data_type: 'ownerlookup', json_type: 'jsonobject', system_mandatory: false });
    expect(byName.get('Email')).toMatchObject({ data_type: 'email', json_type: 'string' });
    expect(byName.get('Phone')).toMatchObject({ data_type: 'phone', json_type: 'string' });
    expect(byName.get('Full_Name')).toMatchObject({ data_type: 'text', read_only: true, field_read_only: true });
    expect(byName.get('Created_Time')).toMatchObject({ data_type: 'datetime', json_type: 'string', read_only: true });
    expect(byName.get('id')).toMatchObject({ data_type: 'bigint', field_label: 'Record Id', read_only: true });
    const source = byName.get('Lead_Source') as { data_type: string; pick_list_values: Record<string, unknown>[] };
    expect(source.data_type).toBe('picklist');
    expect(source.pick_list_values[0]).toEqual({
      display_value: '-None-',
      sequence_number: 1,
      reference_value: '-None-',
      colour_code: null,
      actual_value: '-None-',
      id: expect.stringMatching(/^4876876\d{12}$/),
      type: 'used',
    });
    // Every picklist value a sample lead carries is one of the field's values.
    for (const name of ['Lead_Source', 'Lead_Status']) {
      const values = ((byName.get(name)?.pick_list_values ?? []) as { actual_value: string }[]).map((v) => v.actual_value);
      expect(values.length).toBeGreaterThan(1);
      for (const l of leads) expect(values).toContain(l[name]);
    }

    // Other API versions and a lower-case module name answer the same; type=unused has no fields.
    expect((await crm(emu, '/crm/v2/settings/fields?module=leads', access_token)).body).toEqual(body);
    const unused = await fetch(`${emu.url}/crm/v8/settings/fields?module=Leads&type=unused`, {
      headers: { authorization: `Zoho-oauthtoken ${access_token}` },
    });
    expect(unused.status).toBe(204);
    expect(await unused.text()).toBe('');
  });

  it('answers 400 INVALID_MODULE for a module the org lacks and REQUIRED_PARAM_MISSING without module', async () => {
    const { access_token } = await newTokens(emu);
    for (const module of ['Contacts', 'Nope', 'Leads2'])
      expect(await crm(emu, `/crm/v8/settings/fields?module=${module}`, access_token)).toMatchObject({ status: 400, body: INVALID_MODULE });
    const missing = {
      code: 'REQUIRED_PARAM_MISSING',
      details: { param_name: 'module' },
      message: 'One of the expected parameter is missing',
    };
    for (const path of ['/crm/v8/settings/fields', '/crm/v8/settings/fields?module='])
      expect(await crm(emu, path, access_token)).toEqual(expect.objectContaining({ status: 400, body: { ...missing, status: 'error' } }));
    expect(await crm(emu, '/crm/v8/settings/nope', access_token)).toMatchObject({ status: 404, body: { code: 'INVALID_URL_PATTERN' } });
    const post = await fetch(`${emu.url}/crm/v8/settings/fields?module=Leads`, {
      method: 'POST',
      headers: { authorization: `Zoho-oauthtoken ${access_token}` },
    });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ code: 'INVALID_REQUEST_METHOD' });
  });

  it('GET settings/modules lists Leads as an API module, and answers 304 when nothing changed since If-Modified-Since', async () => {
    const { access_token } = await newTokens(emu, 'bob@zylker.com');
    const { status, body } = await crm(emu, '/crm/v8/settings/modules', access_token);
    expect(status).toBe(200);
    const modules = body.modules as Record<string, unknown>[];
    expect(modules).toHaveLength(1);
    expect(modules[0]).toMatchObject({
      api_name: 'Leads',
      module_name: 'Leads',
      singular_label: 'Lead',
      plural_label: 'Leads',
      api_supported: true,
      generated_type: 'default',
      status: 'visible',
      modified_by: { name: 'Bob Zylker', id: expect.stringMatching(/^\d{19}$/) },
    });
    expect(modules[0]?.id).toMatch(/^4876876\d{12}$/);
    const modified = Date.parse(modules[0]?.modified_time as string);
    expect(modified).not.toBeNaN();

    const since = (date: number) =>
      fetch(`${emu.url}/crm/v8/settings/modules`, {
        headers: { authorization: `Zoho-oauthtoken ${access_token}`, 'if-modified-since': new Date(date).toISOString() },
      });
    const before = await since(modified - 1000);
    expect(before.status).toBe(200);
    expect(((await before.json()) as { modules: { api_name: string }[] }).modules.map((m) => m.api_name)).toEqual(['Leads']);
    const after = await since(modified + 1000);
    expect(after.status).toBe(304);
    expect(await after.text()).toBe('');
  });

  it('answers 401 INVALID_TOKEN on the metadata endpoints for missing, unknown, mis-schemed and expired tokens', async () => {
    const { access_token } = await newTokens(emu);
    const paths = ['/crm/v8/settings/fields?module=Leads', '/crm/v8/settings/modules', '/crm/v8/settings/fields?module=Nope'];
    const checks: [string | undefined, string?][] = [[undefined], ['1000.unknown.token'], [access_token, 'Bearer'], ['']];
    for (const path of paths)
      for (const [token, scheme] of checks) expect(await crm(emu, path, token, scheme)).toMatchObject({ status: 401, body: INVALID });
    expect((await crm(emu, paths[0] as string, access_token)).status).toBe(200);
    emu.clock.advance(3_600_000);
    for (const path of paths) expect(await crm(emu, path, access_token)).toMatchObject({ status: 401, body: INVALID });
    expect(emu.counters).toMatchObject({ apiCalls: 16, apiRejected: 15 });
  });
});

describe('clock and counters', () => {
  it('starts at startTime, moves with real time, advances and can be set', () => {
    const t = emu.clock.now();
    expect(t).toBeGreaterThanOrEqual(START);
    expect(t).toBeLessThan(START + 5000);
    emu.clock.advance(3_600_000);
    expect(emu.clock.now() - t).toBeGreaterThanOrEqual(3_600_000);
    emu.clock.set(START + 10 * 86_400_000);
    expect(emu.clock.now() - (START + 10 * 86_400_000)).toBeLessThan(1000);
    expect(() => emu.clock.advance(Number.NaN)).toThrow(RangeError);
  });

  it('counts refreshes per refresh token under a non-secret handle; snapshots do not change', async () => {
    const a = await newTokens(emu);
    const b = await newTokens(emu);
    const before = emu.counters;
    await refreshRaw(emu, a.refresh_token);
    await refreshRaw(emu, a.refresh_token);
    await refreshRaw(emu, b.refresh_token);
    expect(before.refreshes).toBe(0);
    const after = emu.counters;
    const ha = refreshTokenHandle(a.refresh_token);
    expect(ha).toMatch(/^rt_[0-9a-f]{16}$/);
    expect(emu.handleOf(a.refresh_token)).toBe(ha);
    expect(after.refreshesByToken).toEqual({ [ha]: 2, [refreshTokenHandle(b.refresh_token)]: 1 });
    expect(after).toMatchObject({ tokenRequests: 5, grantExchanges: 2, refreshes: 3, throttled: 0, grantsIssued: 2 });
    emu.resetCounters();
    expect(emu.counters).toEqual({
      tokenRequests: 0,
      grantExchanges: 0,
      clientCredentialsGrants: 0,
      refreshes: 0,
      refreshesByToken: {},
      throttled: 0,
      rejected: {},
      apiCalls: 0,
      apiCallsByProduct: {},
      apiRejected: 0,
      revocations: 0,
      grantsIssued: 0,
    });
  });
});

describe('admin endpoints', () => {
  it('GET /__emulator/state shows now, counters, limits and sizes, and no secret', async () => {
    const a = await newTokens(emu);
    await refreshRaw(emu, a.refresh_token);
    const res = await fetch(`${emu.url}/__emulator/state`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const state = JSON.parse(text) as Record<string, unknown>;
    expect(state.now).toBeGreaterThanOrEqual(START);
    expect(state.now).toBeLessThanOrEqual(emu.clock.now());
    expect(state.url).toBe(emu.url);
    expect(state.counters).toMatchObject({ grantExchanges: 1, refreshes: 1, refreshesByToken: { [emu.handleOf(a.refresh_token)]: 1 } });
    expect(state.limits).toEqual({
      grantTtlMs: 180000,
      grantsPer10Min: 10,
      accessPerRefreshPer10Min: 10,
      activeAccessPerRefresh: 15,
      refreshPerUserClient: 20,
      accessTtlMs: 3600000,
    });
    expect(state.sizes).toEqual({ clients: 1, users: 2, grants: 0, refreshTokens: 1, accessTokens: 2 });
    for (const secret of [CLIENT_SECRET, a.refresh_token, a.access_token]) expect(text).not.toContain(secret);
  });

  it('POST clock/advance and clock/set move emulated time', async () => {
    const res = await fetch(`${emu.url}/__emulator/clock/advance?ms=7200000`, { method: 'POST' });
    const { now } = (await res.json()) as { now: number };
    expect(now - START).toBeGreaterThanOrEqual(7_200_000);
    expect(now - START).toBeLessThan(7_205_000);
    expect(emu.clock.now()).toBeGreaterThanOrEqual(now);
    const set = await postForm(`${emu.url}/__emulator/clock/set`, { ms: String(START) });
    expect(set.body.now).toBeLessThan(START + 1000);
    const bad = await fetch(`${emu.url}/__emulator/clock/advance?ms=soon`, { method: 'POST' });
    expect(bad.status).toBe(400);
  });

  it('POST grant mints a code for a client and user (query or form)', async () => {
    const q = (await (await fetch(`${emu.url}/__emulator/grant?user=bob@zylker.com`, { method: 'POST' })).json()) as { code: string };
    expect(q.code).toMatch(ZOHO_TOKEN);
    const ex = await postForm(`${emu.url}/oauth/v2/token`, exchangeParams(q.code));
    const me = await crm(emu, '/crm/v8/users?type=CurrentUser', ex.body.access_token as string);
    expect((me.body.users as { email: string }[])[0]?.email).toBe('bob@zylker.com');

    const f = await postForm(`${emu.url}/__emulator/grant`, { client_id: '1000.EMULATORCLIENT0000000000000000', user: 'dave@zylker.com' });
    expect(f.body.code).toMatch(ZOHO_TOKEN);
    const bad = await postForm(`${emu.url}/__emulator/grant`, { client_id: '1000.NOPE' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'unknown_client' } });
    for (let i = 0; i < 8; i++) await fetch(`${emu.url}/__emulator/grant`, { method: 'POST' });
    const over = await fetch(`${emu.url}/__emulator/grant`, { method: 'POST' });
    expect(over.status).toBe(429);
    expect(await over.json()).toMatchObject({ error: 'Access Denied' });
  });

  it('POST reset-counters and expire-access-tokens', async () => {
    const a = await newTokens(emu);
    const b = await newTokens(emu);
    const expired = await fetch(`${emu.url}/__emulator/expire-access-tokens`, { method: 'POST' });
    expect(await expired.json()).toEqual({ status: 'success', expired: 2 });
    expect((await crm(emu, '/crm/v8/org', a.access_token)).status).toBe(401);
    expect((await crm(emu, '/crm/v8/org', b.access_token)).status).toBe(401);
    const reset = await fetch(`${emu.url}/__emulator/reset-counters`, { method: 'POST' });
    expect(await reset.json()).toEqual({ status: 'success' });
    expect(emu.counters.tokenRequests).toBe(0);
    expect(emu.counters.apiRejected).toBe(0);
  });

  it('answers 404 for unknown admin endpoints and 405 for wrong methods', async () => {
    expect((await fetch(`${emu.url}/__emulator/nope`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${emu.url}/__emulator/reset-counters`)).status).toBe(405);
    expect((await fetch(`${emu.url}/__emulator/state`, { method: 'POST' })).status).toBe(405);
  });
});

describe('startup options', () => {
  let custom: Emulator;
  beforeAll(async () => {
    custom = await startEmulator({
      clients: [{ clientId: '1000.MINE', clientSecret: 'mine-secret-000000', redirectUris: ['https://x.example/cb'] }],
      users: [{ email: 'zed@example.com' }],
    });
  });
  afterAll(async () => {
    await custom.close();
  });

  it('replaces the default client and users', async () => {
    const code = custom.issueGrantToken();
    const ok = await postForm(`${custom.url}/oauth/v2/token`, {
      grant_type: 'authorization_code',
      client_id: '1000.MINE',
      client_secret: 'mine-secret-000000',
      code,
    });
    expect(ok.body.refresh_token).toMatch(ZOHO_TOKEN);
    const me = await crm(custom, '/crm/v8/users?type=CurrentUser', ok.body.access_token as string);
    expect((me.body.users as Record<string, unknown>[])[0]).toMatchObject({ email: 'zed@example.com', full_name: 'Zed' });
    const old = await postForm(`${custom.url}/oauth/v2/token`, exchangeParams(custom.issueGrantToken()));
    expect(old.body).toEqual({ error: 'invalid_client' });
  });

  it('rejects bad options and a busy port', async () => {
    await expect(startEmulator({ port: 70000 })).rejects.toThrow(/port must be 0..65535/);
    await expect(startEmulator({ port: custom.port })).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  });

  it('close() is idempotent', async () => {
    const e = await startEmulator();
    await Promise.all([e.close(), e.close()]);
    await e.close();
  });
});
