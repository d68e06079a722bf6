import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZohoThrottleError } from '../../src/errors.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  crm,
  exchangeParams,
  newTokens,
  postForm,
  postMultipart,
  postQuery,
  refreshParams,
  refreshRaw,
  ZOHO_TOKEN,
} from './helpers.js';

const THROTTLE = {
  error: 'Access Denied',
  error_description: 'You have made too many requests continuously. Please try again after some time.',
};
const TEN_MIN = 600_000;

let emu: Emulator;
let tokenUrl: string;
beforeEach(async () => {
  emu = await startEmulator({ startTime: Date.UTC(2025, 0, 1) });
  tokenUrl = `${emu.url}/oauth/v2/token`;
});
afterEach(async () => {
  await emu.close();
});

describe('token endpoint: grant types and body encodings', () => {
  it('exchanges a grant with parameters in the query string', async () => {
    const { status, body } = await postQuery(tokenUrl, exchangeParams(emu.issueGrantToken()));
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['access_token', 'api_domain', 'expires_in', 'refresh_token', 'token_type']);
    expect(body.access_token).toMatch(ZOHO_TOKEN);
    expect(body.refresh_token).toMatch(ZOHO_TOKEN);
    expect(body.access_token).not.toBe(body.refresh_token);
    expect(body).toMatchObject({ api_domain: emu.url, token_type: 'Bearer', expires_in: 3600 });
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.accountsUrl).toBe(emu.url);
    expect(emu.apiDomain).toBe(emu.url);
  });

  it('exchanges with an urlencoded body and refreshes with a multipart body', async () => {
    const ex = await postForm(tokenUrl, exchangeParams(emu.issueGrantToken()));
    expect(ex.status).toBe(200);
    const rt = ex.body.refresh_token as string;
    const rf = await postMultipart(tokenUrl, refreshParams(rt));
    expect(rf.status).toBe(200);
    expect(Object.keys(rf.body).sort()).toEqual(['access_token', 'api_domain', 'expires_in', 'token_type']);
    expect(rf.body.access_token).toMatch(ZOHO_TOKEN);
    expect(rf.body.access_token).not.toBe(ex.body.access_token);
    const users = await crm(emu, '/crm/v8/users?type=CurrentUser', rf.body.access_token as string);
    expect(users.status).toBe(200);
  });

  it('exchanges with a multipart body and refreshes with the query string and urlencoded body', async () => {
    const ex = await postMultipart(tokenUrl, exchangeParams(emu.issueGrantToken()));
    expect(ex.body.refresh_token).toMatch(ZOHO_TOKEN);
    const rt = ex.body.refresh_token as string;
    expect((await postQuery(tokenUrl, refreshParams(rt))).body.access_token).toMatch(ZOHO_TOKEN);
    expect((await postForm(tokenUrl, refreshParams(rt))).body.access_token).toMatch(ZOHO_TOKEN);
    expect(emu.counters).toMatchObject({ tokenRequests: 3, grantExchanges: 1, refreshes: 2 });
  });

  it('parses a hand-written multipart body (quoted boundary, UTF-8, extra fields) and rejects a broken one', async () => {
    const code = emu.issueGrantToken();
    const boundary = 'xYz-123';
    const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const body =
      part('grant_type', 'authorization_code') +
      part('client_id', CLIENT_ID) +
      part('client_secret', CLIENT_SECRET) +
      part('note', 'héllo\r\nwörld') +
      part('code', code) +
      `--${boundary}--\r\n`;
    const res = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary="${boundary}"` }, body });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Record<string, unknown>).refresh_token).toMatch(ZOHO_TOKEN);

    const broken = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="code"\r\n\r\nunterminated`,
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('answers Zoho errors with HTTP 200 and the error body', async () => {
    const code = emu.issueGrantToken();
    const cases: [Record<string, string>, string][] = [
      [exchangeParams(code, { client_secret: 'wrong-secret' }), 'invalid_client'],
      [exchangeParams(code, { client_id: '1000.UNKNOWN' }), 'invalid_client'],
      [exchangeParams('1000.0000.0000'), 'invalid_code'],
      [exchangeParams(''), 'invalid_code'],
      [{ ...exchangeParams(code), grant_type: 'password' }, 'unsupported_grant_type'],
      [refreshParams('1000.nope.nope'), 'invalid_code'],
    ];
    for (const [params, error] of cases) {
      const { status, body } = await postForm(tokenUrl, params);
      expect(status).toBe(200);
      expect(body).toEqual({ error });
    }
    expect(emu.counters.rejected).toEqual({ invalid_client: 2, invalid_code: 3, unsupported_grant_type: 1 });
    // The failed attempts did not spend the code.
    expect((await postForm(tokenUrl, exchangeParams(code))).body.access_token).toMatch(ZOHO_TOKEN);
  });

  it('can answer errors with HTTP 400 instead (tokenErrorStatus)', async () => {
    const e400 = await startEmulator({ tokenErrorStatus: 400 });
    try {
      const { status, body } = await postForm(`${e400.url}/oauth/v2/token`, exchangeParams('1000.x.y'));
      expect(status).toBe(400);
      expect(body).toEqual({ error: 'invalid_code' });
    } finally {
      await e400.close();
    }
  });

  it('refuses a grant code presented by another client', async () => {
    emu.addClient({ clientId: '1000.OTHER', clientSecret: 'other-secret-000000' });
    const code = emu.issueGrantToken({ clientId: '1000.OTHER' });
    const res = await postForm(tokenUrl, exchangeParams(code));
    expect(res.body).toEqual({ error: 'invalid_code' });
    const ok = await postForm(tokenUrl, exchangeParams(code, { client_id: '1000.OTHER', client_secret: 'other-secret-000000' }));
    expect(ok.body.refresh_token).toMatch(ZOHO_TOKEN);
    // A refresh token works only with its own client.
    expect((await refreshRaw(emu, ok.body.refresh_token as string)).body).toEqual({ error: 'invalid_code' });
  });
});

describe('grant codes: one-time, expiry, per-client limit, redirect URIs', () => {
  it('a grant code works once', async () => {
    const code = emu.issueGrantToken();
    expect(code).toMatch(ZOHO_TOKEN);
    expect((await postForm(tokenUrl, exchangeParams(code))).body.access_token).toMatch(ZOHO_TOKEN);
    const again = await postForm(tokenUrl, exchangeParams(code));
    expect(again).toMatchObject({ status: 200, body: { error: 'invalid_code' } });
  });

  it('a grant code expires after grantTtlMs of emulated time', async () => {
    const live = emu.issueGrantToken();
    const dead = emu.issueGrantToken();
    emu.clock.advance(170_000);
    expect((await postForm(tokenUrl, exchangeParams(live))).body.access_token).toMatch(ZOHO_TOKEN);
    emu.clock.advance(10_001);
    expect((await postForm(tokenUrl, exchangeParams(dead))).body).toEqual({ error: 'invalid_code' });
  });

  it('at most 10 grant codes per client in 10 minutes', async () => {
    for (let i = 0; i < 10; i++) emu.issueGrantToken();
    let caught: unknown;
    try {
      emu.issueGrantToken();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ZohoThrottleError);
    expect((caught as ZohoThrottleError).retryAfterMs).toBeGreaterThan(TEN_MIN - 1000);
    expect((caught as ZohoThrottleError).retryAfterMs).toBeLessThanOrEqual(TEN_MIN);
    emu.clock.advance(TEN_MIN);
    expect(emu.issueGrantToken()).toMatch(ZOHO_TOKEN);
    expect(emu.counters.grantsIssued).toBe(11);
  });

  it('checks the redirect URI bound to a grant and the client registered ones', async () => {
    emu.addClient({ clientId: '1000.WEB', clientSecret: 'web-secret-00000000', redirectUris: ['https://app.example/cb'] });
    const web = { client_id: '1000.WEB', client_secret: 'web-secret-00000000' };
    const bound = emu.issueGrantToken({ clientId: '1000.WEB', redirectUri: 'https://app.example/cb' });
    expect((await postForm(tokenUrl, exchangeParams(bound, { ...web, redirect_uri: 'https://evil.example/cb' }))).body).toEqual({
      error: 'invalid_redirect_uri',
    });
    expect((await postForm(tokenUrl, exchangeParams(bound, web))).body).toEqual({ error: 'invalid_redirect_uri' });
    expect(
      (await postForm(tokenUrl, exchangeParams(bound, { ...web, redirect_uri: 'https://app.example/cb' }))).body.refresh_token,
    ).toMatch(ZOHO_TOKEN);

    const self = emu.issueGrantToken({ clientId: '1000.WEB' });
    expect((await postForm(tokenUrl, exchangeParams(self, { ...web, redirect_uri: 'https://other.example/' }))).body).toEqual({
      error: 'invalid_redirect_uri',
    });
    expect((await postForm(tokenUrl, exchangeParams(self, web))).body.refresh_token).toMatch(ZOHO_TOKEN);
    expect(() => emu.issueGrantToken({ clientId: '1000.WEB', redirectUri: 'https://nope.example/' })).toThrow(/not registered/);
    expect(() => emu.issueGrantToken({ clientId: '1000.NOBODY' })).toThrow(/no client/);
  });
});

describe('refresh limits', () => {
  it('throttles the 11th refresh in 10 minutes with Access Denied, then recovers after the window', async () => {
    const { refresh_token: rt } = await newTokens(emu);
    for (let i = 0; i < 10; i++) {
      const { body } = await refreshRaw(emu, rt);
      expect(body.access_token).toMatch(ZOHO_TOKEN);
      emu.clock.advance(1000);
    }
    const throttled = await refreshRaw(emu, rt);
    expect(throttled.status).toBe(200);
    expect(throttled.body).toEqual(THROTTLE);
    // Retry-After: the first refresh leaves the window 600 s after it was made (10 s ago).
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(585);
    expect(Number(throttled.headers.get('retry-after'))).toBeLessThanOrEqual(590);
    expect(emu.counters).toMatchObject({ refreshes: 10, throttled: 1, refreshesByToken: { [emu.handleOf(rt)]: 10 } });
    emu.clock.advance(TEN_MIN - 10_000);
    const again = await refreshRaw(emu, rt);
    expect(again.body.access_token).toMatch(ZOHO_TOKEN);
  });

  it('the window slides: refreshes leave it 10 minutes after they were made', async () => {
    const { refresh_token: rt } = await newTokens(emu);
    for (let i = 0; i < 5; i++) expect((await refreshRaw(emu, rt)).body.access_token).toMatch(ZOHO_TOKEN);
    emu.clock.advance(5 * 60_000);
    for (let i = 0; i < 5; i++) expect((await refreshRaw(emu, rt)).body.access_token).toMatch(ZOHO_TOKEN);
    expect((await refreshRaw(emu, rt)).body).toEqual(THROTTLE);
    emu.clock.advance(5 * 60_000 + 1000); // the first five left the window, the last five did not
    for (let i = 0; i < 5; i++) expect((await refreshRaw(emu, rt)).body.access_token).toMatch(ZOHO_TOKEN);
    expect((await refreshRaw(emu, rt)).body).toEqual(THROTTLE);
    // Another refresh token of the same user is not affected.
    const other = await newTokens(emu);
    expect((await refreshRaw(emu, other.refresh_token)).body.access_token).toMatch(ZOHO_TOKEN);
  });

  it('the 16th active access token invalidates the oldest', async () => {
    const first = await newTokens(emu);
    const tokens = [first.access_token];
    for (let i = 0; i < 10; i++) tokens.push((await refreshRaw(emu, first.refresh_token)).body.access_token as string);
    emu.clock.advance(TEN_MIN + 1);
    for (let i = 0; i < 4; i++) tokens.push((await refreshRaw(emu, first.refresh_token)).body.access_token as string);
    expect(tokens).toHaveLength(15);
    for (const at of [tokens[0], tokens[14]]) expect((await crm(emu, '/crm/v8/org', at)).status).toBe(200);
    tokens.push((await refreshRaw(emu, first.refresh_token)).body.access_token as string); // the 16th
    const oldest = await crm(emu, '/crm/v8/org', tokens[0]);
    expect(oldest.status).toBe(401);
    expect(oldest.body).toEqual({ code: 'INVALID_TOKEN', details: {}, message: 'invalid oauth token', status: 'error' });
    for (const at of tokens.slice(1)) expect((await crm(emu, '/crm/v8/org', at)).status).toBe(200);
    tokens.push((await refreshRaw(emu, first.refresh_token)).body.access_token as string); // the 17th
    expect((await crm(emu, '/crm/v8/org', tokens[1])).status).toBe(401);
    expect((await crm(emu, '/crm/v8/org', tokens[2])).status).toBe(200);
  });

  it('the 21st refresh token of a user and client deletes the first and its access tokens', async () => {
    const bob = await newTokens(emu, 'bob@zylker.com');
    const alice: { access_token: string; refresh_token: string }[] = [];
    for (let i = 0; i < 21; i++) {
      if (i === 9 || i === 18) emu.clock.advance(TEN_MIN + 1); // grant codes: 10 per 10 minutes
      alice.push(await newTokens(emu, 'alice@zylker.com'));
    }
    const nth = (i: number) => alice[i] ?? { access_token: 'missing', refresh_token: 'missing' };
    const [firstAlice, secondAlice, lastAlice] = [nth(0), nth(1), nth(20)] as const;
    expect((await refreshRaw(emu, firstAlice.refresh_token)).body).toEqual({ error: 'invalid_code' });
    expect((await crm(emu, '/crm/v8/org', firstAlice.access_token)).status).toBe(401);
    expect((await refreshRaw(emu, secondAlice.refresh_token)).body.access_token).toMatch(ZOHO_TOKEN);
    expect((await refreshRaw(emu, lastAlice.refresh_token)).body.access_token).toMatch(ZOHO_TOKEN);
    expect((await refreshRaw(emu, bob.refresh_token)).body.access_token).toMatch(ZOHO_TOKEN);
  });

  it('access tokens expire after accessTtlMs of emulated time', async () => {
    const { access_token: at } = await newTokens(emu);
    emu.clock.advance(3_599_000);
    expect((await crm(emu, '/crm/v8/org', at)).status).toBe(200);
    emu.clock.advance(1000);
    expect((await crm(emu, '/crm/v8/org', at)).status).toBe(401);
  });

  it('honours custom limits', async () => {
    const small = await startEmulator({ limits: { accessPerRefreshPer10Min: 2, accessTtlMs: 60_000 } });
    try {
      const { refresh_token: rt } = await newTokens(small);
      const first = await refreshRaw(small, rt);
      expect(first.body.expires_in).toBe(60);
      expect((await refreshRaw(small, rt)).body.access_token).toMatch(ZOHO_TOKEN);
      expect((await refreshRaw(small, rt)).body).toEqual(THROTTLE);
    } finally {
      await small.close();
    }
    await expect(startEmulator({ limits: { grantTtlMs: 0 } })).rejects.toThrow(/grantTtlMs must be a positive whole number/);
  });
});

describe('revoke', () => {
  it('revokes a refresh token and its access tokens (query or form)', async () => {
    const a = await newTokens(emu);
    const res = await postQuery(`${emu.url}/oauth/v2/token/revoke`, { token: a.refresh_token });
    expect(res).toMatchObject({ status: 200, body: { status: 'success' } });
    expect((await refreshRaw(emu, a.refresh_token)).body).toEqual({ error: 'invalid_code' });
    expect((await crm(emu, '/crm/v8/org', a.access_token)).status).toBe(401);

    const b = await newTokens(emu);
    expect((await postForm(`${emu.url}/oauth/v2/token/revoke`, { token: b.refresh_token })).body).toEqual({ status: 'success' });
    expect((await refreshRaw(emu, b.refresh_token)).body).toEqual({ error: 'invalid_code' });
    expect(emu.counters.revocations).toBe(2);
  });

  it('answers an unknown or repeated revoke with a failure body', async () => {
    const a = await newTokens(emu);
    expect(emu.revokeRefreshToken(a.refresh_token)).toBe(true);
    expect(emu.revokeRefreshToken(a.refresh_token)).toBe(false);
    const res = await postForm(`${emu.url}/oauth/v2/token/revoke`, { token: a.refresh_token });
    expect(res).toMatchObject({ status: 200, body: { status: 'failure', error: 'invalid_token' } });
    expect((await postForm(`${emu.url}/oauth/v2/token/revoke`, {})).body).toEqual({ status: 'failure', error: 'invalid_token' });
    expect(emu.counters.rejected).toEqual({ invalid_token: 2 });
  });

  it('answers 405 to a GET on the token endpoints', async () => {
    const res = await fetch(`${emu.url}/oauth/v2/token`);
    expect(res.status).toBe(405);
  });
});

describe('authorize redirect', () => {
  const authUrl = (params: Record<string, string>) => `${emu.url}/oauth/v2/auth?${new URLSearchParams(params)}`;
  const base = {
    scope: 'ZohoCRM.modules.ALL',
    client_id: CLIENT_ID,
    response_type: 'code',
    access_type: 'offline',
    redirect_uri: 'http://localhost:8080/callback?x=1',
    state: 's t&ate/42',
    prompt: 'consent',
  };
  // The default client accepts only its registered redirect URIs: register the one used here.
  beforeEach(() => emu.addClient({ ...DEFAULT_CLIENT, redirectUris: [base.redirect_uri] }));

  it('consents at once and redirects with code, location, accounts-server and state', async () => {
    const res = await fetch(authUrl(base), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('http://localhost:8080/callback');
    expect(location.searchParams.get('x')).toBe('1');
    expect(location.searchParams.get('state')).toBe('s t&ate/42');
    expect(location.searchParams.get('location')).toBe('us');
    expect(location.searchParams.get('accounts-server')).toBe(emu.url);
    const code = location.searchParams.get('code') ?? '';
    expect(code).toMatch(ZOHO_TOKEN);
    const ex = await postForm(tokenUrl, exchangeParams(code, { redirect_uri: base.redirect_uri }));
    expect(ex.body.refresh_token).toMatch(ZOHO_TOKEN);
    const me = await crm(emu, '/crm/v8/users?type=CurrentUser', ex.body.access_token as string);
    expect((me.body.users as { email: string }[])[0]?.email).toBe('alice@zylker.com');
  });

  it('signs in as login_hint, and gives no refresh token without access_type=offline', async () => {
    const { access_type: _omit, ...online } = base;
    const res = await fetch(authUrl({ ...online, login_hint: 'bob@zylker.com' }), { redirect: 'manual' });
    const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const ex = await postForm(tokenUrl, exchangeParams(code, { redirect_uri: base.redirect_uri }));
    expect(Object.keys(ex.body).sort()).toEqual(['access_token', 'api_domain', 'expires_in', 'token_type']);
    const me = await crm(emu, '/crm/v8/users?type=CurrentUser', ex.body.access_token as string);
    expect((me.body.users as { email: string }[])[0]?.email).toBe('bob@zylker.com');
  });

  it("refuses a bad client or response type with a 400 JSON answer, an unregistered redirect URI with Zoho's error page", async () => {
    emu.addClient({ clientId: '1000.WEB', clientSecret: 'web-secret-00000000', redirectUris: ['https://app.example/cb'] });
    const cases: [Record<string, string>, string][] = [
      [{ ...base, client_id: '1000.NOPE' }, 'invalid_client'],
      [{ ...base, response_type: 'token' }, 'unsupported_response_type'],
    ];
    for (const [params, error] of cases) {
      const res = await fetch(authUrl(params), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error });
    }
    const grantsBefore = emu.counters.grantsIssued;
    for (const params of [
      { ...base, client_id: '1000.WEB' },
      { ...base, client_id: '1000.WEB', redirect_uri: 'https://app.example/cb/' },
      { ...base, redirect_uri: 'not a url' },
    ]) {
      const res = await fetch(authUrl(params), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('<title>Invalid Redirect Uri</title>');
    }
    expect(emu.counters.grantsIssued).toBe(grantsBefore);
    const ok = await fetch(authUrl({ ...base, client_id: '1000.WEB', redirect_uri: 'https://app.example/cb' }), { redirect: 'manual' });
    expect(ok.status).toBe(302);
  });
});
