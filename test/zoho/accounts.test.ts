import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZohoNetworkError, ZohoOAuthError, ZohoThrottleError, ZTokenError } from '../../src/errors.js';
import { AccountsClient, type AccountsClientOptions } from '../../src/zoho/accounts.js';
import { type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  closedPort,
  crm,
  everythingShown,
  localServer,
  type LocalServer,
  readAll,
  ZOHO_TOKEN,
} from './helpers.js';

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
async function caught(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** Every error the tests saw, checked at the end for secrets. */
const seen: { err: unknown; secrets: string[] }[] = [];
function remember(err: unknown, ...secrets: string[]): void {
  seen.push({ err, secrets: [CLIENT_SECRET, ...secrets] });
}

let emu: Emulator;
let client: AccountsClient;
beforeEach(async () => {
  emu = await startEmulator();
  client = new AccountsClient({ accountsUrl: emu.accountsUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
});
afterEach(async () => {
  await emu.close();
});

describe('AccountsClient against the emulator', () => {
  it('exchanges a grant, refreshes and revokes', async () => {
    const code = emu.issueGrantToken();
    const grant = await client.exchangeGrant(code);
    expect(grant).toEqual({
      accessToken: expect.stringMatching(ZOHO_TOKEN),
      refreshToken: expect.stringMatching(ZOHO_TOKEN),
      apiDomain: emu.url,
      tokenType: 'Bearer',
      expiresInMs: 3_600_000,
    });
    const refreshed = await client.refresh(grant.refreshToken as string);
    expect(refreshed.refreshToken).toBeUndefined();
    expect(refreshed.accessToken).toMatch(ZOHO_TOKEN);
    expect(refreshed.accessToken).not.toBe(grant.accessToken);
    expect(refreshed.expiresInMs).toBe(3_600_000);
    expect((await crm(emu, '/crm/v8/org', refreshed.accessToken)).status).toBe(200);

    await client.revoke(grant.refreshToken as string);
    expect(emu.counters.revocations).toBe(1);
    expect((await crm(emu, '/crm/v8/org', refreshed.accessToken)).status).toBe(401);
    const err = await caught(() => client.refresh(grant.refreshToken as string));
    remember(err, grant.refreshToken as string, code);
    expect(err).toBeInstanceOf(ZohoOAuthError);
    expect(err).toMatchObject({ code: 'ZOHO_OAUTH', zohoError: 'invalid_code', reason: 'invalid_code', status: 200 });
    expect(err.message).toMatch(/^Zoho rejected the refresh token \(invalid_code\)/);

    const again = await caught(() => client.revoke(grant.refreshToken as string));
    remember(again, grant.refreshToken as string);
    expect(again).toBeInstanceOf(ZohoOAuthError);
    expect(again).toMatchObject({ zohoError: 'invalid_token' });
  });

  it('reports a spent grant code, bad credentials and a bad redirect URI in plain words', async () => {
    const code = emu.issueGrantToken();
    await client.exchangeGrant(code);
    const spent = await caught(() => client.exchangeGrant(code));
    remember(spent, code);
    expect(spent).toBeInstanceOf(ZohoOAuthError);
    expect(spent).toMatchObject({ zohoError: 'invalid_code', status: 200 });
    expect(spent.message).toMatch(/^Zoho rejected the grant token \(invalid_code\): it is unknown, already used or expired/);

    const wrong = new AccountsClient({ accountsUrl: emu.accountsUrl, clientId: CLIENT_ID, clientSecret: 'not-the-secret-123456' });
    const code2 = emu.issueGrantToken();
    const bad = await caught(() => wrong.exchangeGrant(code2));
    remember(bad, code2, 'not-the-secret-123456');
    expect(bad).toMatchObject({ zohoError: 'invalid_client' });
    expect(bad.message).toMatch(
      /^Zoho rejected the client credentials \(invalid_client\): check the client id \(1000\.EMULATORCLIENT0+\) and secret/,
    );

    emu.addClient({ clientId: '1000.WEB', clientSecret: 'web-secret-00000000', redirectUris: ['https://app.example/cb'] });
    const web = new AccountsClient({
      accountsUrl: `${emu.accountsUrl}/`,
      clientId: '1000.WEB',
      clientSecret: 'web-secret-00000000',
      redirectUrl: 'https://evil.example/cb',
    });
    const code3 = emu.issueGrantToken({ clientId: '1000.WEB' });
    const redir = await caught(() => web.exchangeGrant(code3));
    remember(redir, code3, 'web-secret-00000000');
    expect(redir).toMatchObject({ zohoError: 'invalid_redirect_uri' });
    expect(redir.message).toContain('sent: https://evil.example/cb');
    const good = new AccountsClient({
      accountsUrl: emu.accountsUrl,
      clientId: '1000.WEB',
      clientSecret: 'web-secret-00000000',
      redirectUrl: 'https://app.example/cb',
    });
    expect((await good.exchangeGrant(code3)).refreshToken).toMatch(ZOHO_TOKEN);
  });

  it('turns Access Denied into ZohoThrottleError with the emulator Retry-After', async () => {
    const grant = await client.exchangeGrant(emu.issueGrantToken());
    const rt = grant.refreshToken as string;
    for (let i = 0; i < 10; i++) await client.refresh(rt);
    const err = await caught(() => client.refresh(rt));
    remember(err, rt);
    expect(err).toBeInstanceOf(ZohoThrottleError);
    expect(err).not.toBeInstanceOf(ZohoOAuthError);
    expect(err).toMatchObject({ code: 'ZOHO_THROTTLED', reason: 'THROTTLED' });
    expect((err as ZohoThrottleError).retryAfterMs).toBeGreaterThan(590_000);
    expect((err as ZohoThrottleError).retryAfterMs).toBeLessThanOrEqual(600_000);
    expect(err.message).toContain('too many requests continuously');
    emu.clock.advance(600_000);
    expect((await client.refresh(rt)).accessToken).toMatch(ZOHO_TOKEN);
  });

  it('reads the same errors when Zoho answers them with HTTP 400', async () => {
    const e400 = await startEmulator({ tokenErrorStatus: 400, limits: { accessPerRefreshPer10Min: 1 } });
    try {
      const c = new AccountsClient({ accountsUrl: e400.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      const grant = await c.exchangeGrant(e400.issueGrantToken());
      await c.refresh(grant.refreshToken as string);
      expect(await caught(() => c.refresh(grant.refreshToken as string))).toBeInstanceOf(ZohoThrottleError);
      const err = await caught(() => c.exchangeGrant('1000.aaaa.bbbb'));
      expect(err).toMatchObject({ zohoError: 'invalid_code', status: 400 });
    } finally {
      await e400.close();
    }
  });
});

describe('AccountsClient with canned answers', () => {
  function cannedClient(body: unknown, init: ResponseInit = {}, seenRequests: { url: string; init: RequestInit }[] = []): AccountsClient {
    const fakeFetch = (async (url: string | URL | Request, reqInit?: RequestInit) => {
      seenRequests.push({ url: String(url), init: reqInit ?? {} });
      return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status: 200, ...init });
    }) as typeof fetch;
    return new AccountsClient({
      accountsUrl: 'https://accounts.zoho.eu',
      clientId: 'cid',
      clientSecret: 'super-secret-value-xyz',
      fetch: fakeFetch,
    });
  }

  it('expires_in_sec present: expires_in is milliseconds', async () => {
    const requests: { url: string; init: RequestInit }[] = [];
    const c = cannedClient(
      { access_token: 'at-1', expires_in: 3_600_000, expires_in_sec: 3600, api_domain: 'https://www.zohoapis.eu' },
      {},
      requests,
    );
    expect(await c.refresh('rt-value-123456')).toEqual({
      accessToken: 'at-1',
      apiDomain: 'https://www.zohoapis.eu',
      expiresInMs: 3_600_000,
    });
    const [request] = requests;
    expect(request?.url).toBe('https://accounts.zoho.eu/oauth/v2/token');
    expect(request?.init.method).toBe('POST');
    expect(new Headers(request?.init.headers).get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(String(request?.init.body)))).toEqual({
      grant_type: 'refresh_token',
      client_id: 'cid',
      client_secret: 'super-secret-value-xyz',
      refresh_token: 'rt-value-123456',
    });
    expect((await cannedClient({ access_token: 'a', expires_in: 1800 }).refresh('rt-value-123456')).expiresInMs).toBe(1_800_000);
    expect((await cannedClient({ access_token: 'a', expires_in_sec: 1800 }).refresh('rt-value-123456')).expiresInMs).toBe(1_800_000);
  });

  it('prefers expires_in_sec, and refuses a lifetime that is not 1 s to 1 day without quoting a secret', async () => {
    // expires_in_sec wins even when expires_in disagrees with it in any unit.
    expect((await cannedClient({ access_token: 'a', expires_in: 5, expires_in_sec: '900' }).refresh('rt-value-123456')).expiresInMs).toBe(
      900_000,
    );
    for (const body of [
      { access_token: 'at-secret-abcdef', expires_in: -5 },
      { access_token: 'at-secret-abcdef', expires_in: 0 },
      { access_token: 'at-secret-abcdef', expires_in: 3_600_000 }, // milliseconds without expires_in_sec: 41 days
      { access_token: 'at-secret-abcdef', expires_in_sec: 86_401 },
      { access_token: 'at-secret-abcdef', expires_in_sec: 'soon' },
    ]) {
      const error = await caught(() => cannedClient(body).refresh('rt-value-123456'));
      expect(error).toBeInstanceOf(ZohoNetworkError);
      expect((error as ZohoNetworkError).reason).toBe('BAD_RESPONSE');
      const field = 'expires_in_sec' in body ? 'expires_in_sec' : 'expires_in';
      expect((error as Error).message).toContain(`${field}=`);
      expect((error as Error).message).toContain('1 s to 1 day');
      expect((error as Error).message).not.toContain('at-secret-abcdef');
    }
    expect((await cannedClient({ access_token: 'a', expires_in_sec: 86_400 }).refresh('rt-value-123456')).expiresInMs).toBe(86_400_000);
  });

  it('sends the revoke to /oauth/v2/token/revoke with token= only', async () => {
    const requests: { url: string; init: RequestInit }[] = [];
    await cannedClient({ status: 'success' }, {}, requests).revoke('rt-value-123456');
    expect(requests[0]?.url).toBe('https://accounts.zoho.eu/oauth/v2/token/revoke');
    expect(String(requests[0]?.init.body)).toBe('token=rt-value-123456');
  });

  it('classifies throttles without Retry-After, other errors, and success bodies without access_token', async () => {
    const t1 = await caught(() => cannedClient({ error: 'Access Denied' }).refresh('rt-value-123456'));
    expect(t1).toBeInstanceOf(ZohoThrottleError);
    expect((t1 as ZohoThrottleError).retryAfterMs).toBe(60_000);
    const t2 = await caught(() =>
      cannedClient({ error: 'invalid_request', error_description: 'Too many requests from this IP' }).refresh('rt-value-123456'),
    );
    expect(t2).toBeInstanceOf(ZohoThrottleError);
    const t3 = await caught(() => cannedClient('', { status: 429, headers: { 'retry-after': '7' } }).refresh('rt-value-123456'));
    expect((t3 as ZohoThrottleError).retryAfterMs).toBe(7000);

    const other = await caught(() => cannedClient({ error: 'invalid_scope' }, { status: 400 }).exchangeGrant('code-value-123456'));
    expect(other).toBeInstanceOf(ZohoOAuthError);
    expect(other).toMatchObject({ zohoError: 'invalid_scope', status: 400 });
    expect(other.message).toBe("Zoho's accounts server refused the grant token exchange (invalid_scope)");

    const echo = await caught(() =>
      cannedClient({ error: 'weird', error_description: 'bad secret super-secret-value-xyz for code-value-123456' }).exchangeGrant(
        'code-value-123456',
      ),
    );
    remember(echo, 'super-secret-value-xyz', 'code-value-123456');
    expect(echo.message).toContain('Zoho says: bad secret supe');

    const noAt = await caught(() =>
      cannedClient({ token_type: 'Bearer', refresh_token: '1000.abcdefabcdef.abcdef' }).exchangeGrant('code-value-123456'),
    );
    remember(noAt, '1000.abcdefabcdef.abcdef');
    expect(noAt).toBeInstanceOf(ZohoNetworkError);
    expect(noAt).toMatchObject({ reason: 'BAD_RESPONSE' });
    expect(noAt.message).toContain('has no access_token (keys: token_type, refresh_token)');

    const badRevoke = await caught(() => cannedClient({ status: 'failure' }).revoke('rt-value-123456'));
    expect(badRevoke).toMatchObject({ zohoError: 'failure' });
  });

  it('never lets a throwing fetch leak a secret through the message or the cause chain', async () => {
    const leaky = (async (_url: string | URL | Request, init?: RequestInit) => {
      const inner = new Error(`socket hang up while sending ${String(init?.body)}`);
      throw new TypeError('fetch failed', { cause: inner });
    }) as typeof fetch;
    const c = new AccountsClient({
      accountsUrl: 'https://accounts.zoho.com',
      clientId: 'cid',
      clientSecret: 'super-secret-value-xyz',
      fetch: leaky,
    });
    const err = await caught(() => c.exchangeGrant('1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef'));
    remember(err, 'super-secret-value-xyz', '1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef');
    expect(err).toMatchObject({ code: 'ZOHO_NETWORK', reason: 'NETWORK' });
    expect(err.message).toMatch(
      /^Network error calling the Zoho accounts server \(POST https:\/\/accounts\.zoho\.com\/oauth\/v2\/token\): fetch failed: socket hang up/,
    );
    expect((err.cause as Error).cause).toBeInstanceOf(Error);
  });

  it('validates its options', () => {
    const base: AccountsClientOptions = { accountsUrl: 'https://accounts.zoho.com', clientId: 'cid', clientSecret: 's' };
    expect(() => new AccountsClient({ ...base, accountsUrl: 'accounts.zoho.com' })).toThrow(/is not a URL/);
    expect(() => new AccountsClient({ ...base, accountsUrl: 'ftp://x' })).toThrow(/must be http\(s\)/);
    expect(() => new AccountsClient({ ...base, clientId: '' })).toThrow(ZTokenError);
    expect(() => new AccountsClient({ ...base, clientSecret: '' })).toThrow(/clientSecret/);
    expect(() => new AccountsClient({ ...base, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(new AccountsClient({ ...base, accountsUrl: 'https://accounts.zoho.com//' }).tokenUrl).toBe(
      'https://accounts.zoho.com/oauth/v2/token',
    );
  });
});

describe('AccountsClient network failures', () => {
  let servers: LocalServer[] = [];
  const hold: import('node:http').ServerResponse[] = [];
  afterAll(async () => {
    for (const res of hold) res.destroy();
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  const clientFor = (url: string, timeoutMs?: number) =>
    new AccountsClient({ accountsUrl: url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, timeoutMs });

  it('times out against a server that never answers, naming the URL and the timeout', async () => {
    const silent = await localServer((_req, res) => {
      hold.push(res);
    });
    servers.push(silent);
    const t0 = performance.now();
    const err = await caught(() => clientFor(silent.url, 200).refresh('1000.ffffffffffffffffffff.ffffffffffffffffffff'));
    remember(err, '1000.ffffffffffffffffffff.ffffffffffffffffffff');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(err).toBeInstanceOf(ZohoNetworkError);
    expect(err).toMatchObject({ code: 'ZOHO_NETWORK', reason: 'TIMEOUT' });
    expect(err.message).toBe(`The Zoho accounts server did not answer POST ${silent.url}/oauth/v2/token within 200 ms (timeoutMs)`);
  });

  it('times out when the body stalls after the headers', async () => {
    const stall = await localServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":');
      hold.push(res);
    });
    servers.push(stall);
    const err = await caught(() => clientFor(stall.url, 200).refresh('1000.eeeeeeeeeeeeeeee.eeee'));
    expect(err).toMatchObject({ reason: 'TIMEOUT' });
  });

  it('reports a refused connection naming host:port', async () => {
    const port = await closedPort();
    const err = await caught(() => clientFor(`http://127.0.0.1:${port}`).exchangeGrant('1000.dddddddddddddddd.dddd'));
    remember(err, '1000.dddddddddddddddd.dddd');
    expect(err).toBeInstanceOf(ZohoNetworkError);
    expect(err).toMatchObject({ reason: 'CONNECTION_REFUSED' });
    expect(err.message).toContain(`at 127.0.0.1:${port}: connection refused`);
  });

  it('reports a non-JSON body quoting at most 80 scrubbed characters', async () => {
    // Echoes the secrets it received in front of an HTML page.
    const echo = await localServer(async (req, res) => {
      const params = new URLSearchParams(await readAll(req));
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(`${params.get('client_secret')} ${params.get('code') ?? params.get('refresh_token')} <html>${'x'.repeat(200)}</html>`);
    });
    servers.push(echo);
    const code = '1000.0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a.0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b';
    const err = await caught(() => clientFor(echo.url).exchangeGrant(code));
    remember(err, code);
    expect(err).toMatchObject({ reason: 'BAD_RESPONSE' });
    expect(err.message).toMatch(
      new RegExp(`^The Zoho accounts server's answer to POST ${echo.url}/oauth/v2/token \\(HTTP 502\\) is not JSON: "`),
    );
    const quoted = /is not JSON: "(.*)"…$/.exec(err.message)?.[1] ?? '';
    expect(quoted).toHaveLength(80);
    expect(quoted).toBe(`emulator…(42 chars) 1000.0a0…(70 chars) <html>${'x'.repeat(34)}`);
  });

  it('reports a truncated body (cut JSON, and a connection closed before Content-Length)', async () => {
    const cut = await localServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"access_token":"1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123');
    });
    const short = await localServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"access_token":"1000.0123');
      setTimeout(() => res.socket?.destroy(), 10);
    });
    servers.push(cut, short);
    const e1 = await caught(() => clientFor(cut.url).refresh('1000.cccccccccccccccc.cccc'));
    remember(e1, '1000.cccccccccccccccc.cccc');
    expect(e1).toMatchObject({ reason: 'BAD_RESPONSE' });
    expect(e1.message).toContain('is not JSON');
    expect(e1.message).not.toContain('0123456789abcdef0123456789abcdef');
    const e2 = await caught(() => clientFor(short.url).refresh('1000.cccccccccccccccc.cccc'));
    remember(e2, '1000.cccccccccccccccc.cccc');
    expect(e2).toMatchObject({ reason: 'BAD_RESPONSE' });
    expect(e2.message).toContain('broke off before its end');
  });

  it('no error seen in these tests shows a secret whole', () => {
    expect(seen.length).toBeGreaterThanOrEqual(10);
    for (const { err, secrets } of seen) {
      const shown = everythingShown(err);
      for (const secret of secrets) expect(shown, `${String(err)} leaks ${secret.slice(0, 6)}`).not.toContain(secret);
    }
  });
});
