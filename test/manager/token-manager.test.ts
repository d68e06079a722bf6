import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ReauthorizationRequiredError, TokenStoreError, ZohoNetworkError, ZohoOAuthError, ZohoThrottleError } from '../../src/errors.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { DEFAULT_CLIENT, type Emulator } from '../../src/zoho/emulator/index.js';
import { CountingStore, setup } from './helpers.js';

const HOUR = 3_600_000;
let emulators: Emulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  emulators = [];
});
async function start(...args: Parameters<typeof setup>) {
  const ctx = await setup(...args);
  emulators.push(ctx.emulator);
  return ctx;
}

describe('authorize', () => {
  it('exchanges a grant token, names the user email:zgid as the official SDKs do, and saves', async () => {
    const { emulator, manager, store } = await start();
    const saved: string[] = [];
    manager.on('save', (e) => saved.push(e.id));
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken({ userEmail: 'alice@zylker.com' }) });
    expect(token.userName).toBe('alice@zylker.com:700123456');
    expect(token.refreshToken).toMatch(/^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/);
    expect(token.expiryTime! - emulator.clock.now()).toBeGreaterThan(HOUR - 5_000);
    expect(token.apiDomain).toBe(emulator.url);
    expect(await (store as CountingStore).inner.getTokens()).toEqual([token]);
    expect(saved).toEqual([token.id]);
  });

  it('does not spend a grant token twice: a restart with the same code finds the stored row', async () => {
    const { emulator, manager } = await start();
    const code = emulator.issueGrantToken();
    const first = await manager.authorize({ grantToken: code });
    const second = await manager.authorize({ grantToken: code });
    expect(second).toEqual(first);
    expect(emulator.counters.grantExchanges).toBe(1);
  });

  it('re-authorizing a known user replaces that user row', async () => {
    const { emulator, manager, store } = await start();
    await manager.authorize({ grantToken: emulator.issueGrantToken({ userEmail: 'alice@zylker.com' }), userName: 'alice' });
    await manager.authorize({ grantToken: emulator.issueGrantToken({ userEmail: 'alice@zylker.com' }), userName: 'alice' });
    expect((await store.getTokens()).map((t) => t.userName)).toEqual(['alice']);
  });

  it('a spent or unknown code is a typed error and stores nothing', async () => {
    const { manager, store } = await start();
    const error = await manager
      .authorize({ grantToken: '1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef' })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ZohoOAuthError);
    expect(error.zohoError).toBe('invalid_code');
    expect(error.message).not.toContain('0123456789abcdef0123456789abcdef.0123456789abcdef');
    expect(await store.getTokens()).toEqual([]);
  });

  it('a wrong client secret is invalid_client, in plain words, with the secret nowhere', async () => {
    const { emulator, store } = await start();
    const manager = new TokenManager({
      store,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: 'wrong-secret-abcdefghijklmnop',
      accountsUrl: emulator.url,
    });
    const error = await manager.authorize({ grantToken: emulator.issueGrantToken() }).catch((e) => e);
    expect(error).toBeInstanceOf(ZohoOAuthError);
    expect(error.zohoError).toBe('invalid_client');
    expect(error.message).toMatch(/client/i);
    expect(JSON.stringify({ m: error.message, s: error.stack })).not.toContain('wrong-secret-abcdefghijklmnop');
    expect(await store.getTokens()).toEqual([]);
  });
});

describe('getAccessToken', () => {
  it('serves a valid token from the cache without store I/O', async () => {
    const { emulator, manager, store } = await start();
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    const counting = store as CountingStore;
    const before = counting.total();
    for (let i = 0; i < 1000; i++) expect(await manager.getAccessToken({ userName: 'alice' })).toBe(token.accessToken);
    expect(await manager.getAccessToken({ id: token.id })).toBe(token.accessToken);
    expect(counting.total()).toBe(before);
  });

  it('loads from the store on a cold cache, then serves from the cache', async () => {
    const { emulator, manager, store } = await start();
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    const other = new TokenManager({
      store,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      now: () => emulator.clock.now(),
    });
    expect(await other.getAccessToken({ refreshToken: token.refreshToken! })).toBe(token.accessToken);
    const counting = store as CountingStore;
    const before = counting.total();
    expect(await other.getAccessToken({ refreshToken: token.refreshToken! })).toBe(token.accessToken);
    expect(counting.total()).toBe(before);
    expect(emulator.counters.refreshes).toBe(0);
  });

  it('inside the skew window serves the still-valid token at once and refreshes once in the background', async () => {
    const { emulator, manager, store } = await start();
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    const events: string[] = [];
    manager.on('refresh', async (e) => {
      events.push(`refresh ${e.id}`);
      // the event fires after the write: the store already holds the new token
      const stored = await store.findTokenById(e.id);
      events.push(stored?.accessToken === token.accessToken ? 'stale' : 'stored');
    });
    emulator.clock.advance(HOUR - 4 * 60_000); // inside the 5-minute skew, 4 minutes left
    const during = await Promise.all(Array.from({ length: 100 }, () => manager.getAccessToken({ userName: 'alice' })));
    expect(new Set(during)).toEqual(new Set([token.accessToken]));
    await manager.settle();
    expect(emulator.counters.refreshes).toBe(1);
    const after = await manager.getAccessToken({ userName: 'alice' });
    expect(after).not.toBe(token.accessToken);
    expect((await store.findTokenById(token.id))?.accessToken).toBe(after);
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual([`refresh ${token.id}`, 'stored']);
  });

  it('an expired token makes 100 concurrent callers wait for one refresh', async () => {
    const { emulator, manager, store } = await start();
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    emulator.clock.advance(HOUR + 1);
    const results = await Promise.all(Array.from({ length: 100 }, () => manager.getAccessToken({ userName: 'alice' })));
    expect(new Set(results).size).toBe(1);
    expect(results[0]).not.toBe(token.accessToken);
    expect(emulator.counters.refreshes).toBe(1);
    expect((await store.findTokenById(token.id))?.accessToken).toBe(results[0]);
  });

  it('a still-valid token is served when another process holds the refresh lock', async () => {
    const { emulator, manager, store } = await start({ lockTtlMs: 1_000 });
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    emulator.clock.advance(58 * 60_000);
    let release!: () => void;
    const held = store.withLock!(
      `ztoken:refresh:${DEFAULT_CLIENT.clientId}:${token.id}`,
      60_000,
      () => new Promise<void>((r) => (release = r)),
    );
    const started = Date.now();
    expect(await manager.getAccessToken({ userName: 'alice' })).toBe(token.accessToken);
    expect(Date.now() - started).toBeLessThan(500);
    release();
    await held;
    await manager.settle();
  });

  it('keeps users apart', async () => {
    const { emulator, manager } = await start();
    const a = await manager.authorize({ grantToken: emulator.issueGrantToken({ userEmail: 'alice@zylker.com' }), userName: 'alice' });
    const b = await manager.authorize({ grantToken: emulator.issueGrantToken({ userEmail: 'bob@zylker.com' }), userName: 'bob' });
    expect(await manager.getAccessToken({ userName: 'alice' })).toBe(a.accessToken);
    expect(await manager.getAccessToken({ userName: 'bob' })).toBe(b.accessToken);
    emulator.clock.advance(2 * HOUR);
    const [na, nb] = await Promise.all([manager.getAccessToken({ userName: 'alice' }), manager.getAccessToken({ userName: 'bob' })]);
    expect(na).not.toBe(nb);
    expect(emulator.counters.refreshes).toBe(2);
    const leads = await manager.fetch({ userName: 'bob' }, '/crm/v8/users?type=CurrentUser');
    expect(((await leads.json()) as { users: { email: string }[] }).users[0]?.email).toBe('bob@zylker.com');
  });

  it('an unknown selector is NOT_FOUND, naming the user and never a secret', async () => {
    const { manager } = await start();
    await expect(manager.getAccessToken({ userName: 'nobody' })).rejects.toThrow(/No stored token for user nobody/);
    const error = await manager.getAccessToken({ refreshToken: '1000.secretsecretsecret.secret' }).catch((e) => e);
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error.message).not.toContain('1000.secretsecretsecret.secret');
  });

  it('a grant-token selector with no stored row authorizes (as the official SDK does)', async () => {
    const { emulator, manager } = await start();
    const code = emulator.issueGrantToken();
    const access = await manager.getAccessToken({ grantToken: code });
    expect(access).toMatch(/^1000\./);
    expect(await manager.getAccessToken({ grantToken: code })).toBe(access);
    expect(emulator.counters.grantExchanges).toBe(1);
  });
});

describe('fetch', () => {
  it('adds the Zoho-oauthtoken header and resolves relative URLs against the api domain', async () => {
    const { emulator, manager } = await start();
    await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    const response = await manager.fetch({ userName: 'alice' }, '/crm/v8/Leads');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: unknown[] };
    expect(body.data.length).toBeGreaterThan(0);
  });

  it('on 401 INVALID_TOKEN refreshes once and retries once', async () => {
    const { emulator, manager } = await start();
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    emulator.invalidateAccessToken(token.accessToken!);
    const response = await manager.fetch({ userName: 'alice' }, '/crm/v8/Leads');
    expect(response.status).toBe(200);
    expect(emulator.counters.refreshes).toBe(1);
    expect(emulator.counters.apiRejected).toBe(1);
  });

  it('does not refresh on 401 when the store already holds a newer token (another process refreshed)', async () => {
    const { emulator, manager, store } = await start();
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    // another process refreshes and saves
    const other = new TokenManager({
      store: new CountingStore((store as CountingStore).inner),
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      now: () => emulator.clock.now(),
      refreshSkewMs: 2 * HOUR,
    });
    await other.getAccessToken({ userName: 'alice' }); // inside its skew: refreshes in the background
    await other.settle();
    const newer = (await store.findTokenById(token.id))?.accessToken;
    expect(newer).not.toBe(token.accessToken);
    emulator.invalidateAccessToken(token.accessToken!);
    const response = await manager.fetch({ userName: 'alice' }, '/crm/v8/Leads');
    expect(response.status).toBe(200);
    expect(emulator.counters.refreshes).toBe(1); // only the other process's
    expect(await manager.getAccessToken({ userName: 'alice' })).toBe(newer);
  });

  it('retries only once: a second 401 is returned to the caller', async () => {
    const { emulator, manager } = await start();
    await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    const response = await manager.fetch({ userName: 'alice' }, '/crm/v8/Leads', { headers: { 'X-Test': '1' } });
    expect(response.status).toBe(200);
    // an access token that is always rejected: point fetch at a path of the emulator that 401s for any token
    emulator.expireAccessTokens();
    const counting = { n: 0 };
    const manager2 = new TokenManager({
      store: manager.store,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      now: () => emulator.clock.now(),
      fetch: async (input, init) => {
        if (String(input).includes('/crm/')) {
          counting.n++;
          return new Response(JSON.stringify({ code: 'INVALID_TOKEN', details: {}, message: 'invalid oauth token', status: 'error' }), {
            status: 401,
          });
        }
        return fetch(input, init);
      },
    });
    const second = await manager2.fetch({ userName: 'alice' }, '/crm/v8/Leads');
    expect(second.status).toBe(401);
    expect(counting.n).toBe(2);
    expect(emulator.counters.refreshes).toBe(1);
  });
});

describe('throttling and rejected refresh tokens', () => {
  it('a throttled refresh keeps serving the still-valid token and reports its own error type', async () => {
    // skew 59 min: two minutes after each refresh the token is due again, inside one 10-minute window
    const { emulator, manager } = await start({ refreshSkewMs: 59 * 60_000 }, { limits: { accessPerRefreshPer10Min: 1 } });
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    const errors: Error[] = [];
    manager.on('error', (e) => errors.push(e));
    emulator.clock.advance(2 * 60_000);
    expect(await manager.getAccessToken({ userName: 'alice' })).toBe(token.accessToken); // refresh 1 starts
    await manager.settle();
    const first = await manager.getAccessToken({ userName: 'alice' });
    expect(first).not.toBe(token.accessToken);
    emulator.clock.advance(2 * 60_000);
    const second = await manager.getAccessToken({ userName: 'alice' }); // refresh 2 starts: throttled
    await manager.settle();
    expect(second).toBe(first);
    expect(await manager.getAccessToken({ userName: 'alice' })).toBe(first);
    expect(emulator.counters.throttled).toBe(1);
    expect(errors.map((e) => e.constructor.name)).toEqual(['ZohoThrottleError']);
    expect(manager.needsReauthorization(token.id)).toBe(false);
    // backing off: no new token request while the backoff lasts, and the valid token is served
    const requests = emulator.counters.tokenRequests;
    expect(await manager.getAccessToken({ userName: 'alice' })).toBe(first);
    expect(emulator.counters.tokenRequests).toBe(requests);
  });

  it('a throttled refresh of an expired token throws ZohoThrottleError, not a re-authorization', async () => {
    const { emulator, manager } = await start({ refreshSkewMs: 0 }, { limits: { accessPerRefreshPer10Min: 1, accessTtlMs: 60_000 } });
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    emulator.clock.advance(2 * 60_000);
    await manager.getAccessToken({ userName: 'alice' }); // refresh 1
    emulator.clock.advance(2 * 60_000); // expired again, same window
    const error = await manager.getAccessToken({ userName: 'alice' }).catch((e) => e);
    expect(error).toBeInstanceOf(ZohoThrottleError);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(manager.needsReauthorization(token.id)).toBe(false);
  });

  it('a revoked refresh token marks the token as needing re-authorization and loses nothing', async () => {
    const { emulator, manager, store } = await start();
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    emulator.revokeRefreshToken(token.refreshToken!);
    emulator.clock.advance(2 * HOUR);
    const error = await manager.getAccessToken({ userName: 'alice' }).catch((e) => e);
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect(error.tokenId).toBe(token.id);
    expect(error.message).not.toContain(token.refreshToken);
    expect(manager.needsReauthorization(token.id)).toBe(true);
    expect(await store.findTokenById(token.id)).toEqual(token);
    // no more calls to Zoho for it until re-authorized
    const requests = emulator.counters.tokenRequests;
    await expect(manager.getAccessToken({ userName: 'alice' })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(emulator.counters.tokenRequests).toBe(requests);
    await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    expect(manager.needsReauthorization(token.id)).toBe(false);
    expect(await manager.getAccessToken({ userName: 'alice' })).toMatch(/^1000\./);
  });
});

describe('revoke', () => {
  it('revokes at Zoho, then deletes locally', async () => {
    const { emulator, manager, store } = await start();
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    await manager.revoke({ userName: 'alice' });
    expect(emulator.counters.revocations).toBe(1);
    expect(await store.getTokens()).toEqual([]);
    const api = await fetch(`${emulator.url}/crm/v8/Leads`, { headers: { Authorization: `Zoho-oauthtoken ${token.accessToken}` } });
    expect(api.status).toBe(401);
    await expect(manager.getAccessToken({ userName: 'alice' })).rejects.toThrow(/No stored token/);
  });

  it('keeps the local token when Zoho cannot be reached', async () => {
    const { emulator, manager, store } = await start();
    await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    await emulator.close();
    emulators = emulators.filter((e) => e !== emulator);
    await expect(manager.revoke({ userName: 'alice' })).rejects.toBeInstanceOf(ZohoNetworkError);
    expect(await store.getTokens()).toHaveLength(1);
  });
});

describe('faults', () => {
  it('connection refused, timeout and a non-JSON body are typed errors and leave the store untouched', async () => {
    const store = new MemoryStore();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const refused = new TokenManager({ store, clientId: 'c', clientSecret: 's', accountsUrl: `http://127.0.0.1:${closedPort}` });
    const e1 = await refused.authorize({ grantToken: '1000.code' }).catch((e) => e);
    expect(e1).toBeInstanceOf(ZohoNetworkError);
    expect(e1.reason).toBe('CONNECTION_REFUSED');

    const silent = createServer((req, res) => {
      if (req.url?.includes('garbage')) res.end('<html>oops');
      // else never answer
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const slow = new TokenManager({ store, clientId: 'c', clientSecret: 's', accountsUrl: `http://127.0.0.1:${port}`, timeoutMs: 200 });
    const e2 = await slow.authorize({ grantToken: '1000.code' }).catch((e) => e);
    expect(e2).toBeInstanceOf(ZohoNetworkError);
    expect(e2.reason).toBe('TIMEOUT');
    const garbage = new TokenManager({ store, clientId: 'c', clientSecret: 's', accountsUrl: `http://127.0.0.1:${port}/garbage` });
    const e3 = await garbage.authorize({ grantToken: '1000.code' }).catch((e) => e);
    expect(e3).toBeInstanceOf(ZohoNetworkError);
    expect(e3.reason).toBe('BAD_RESPONSE');
    silent.closeAllConnections();
    silent.close();
    expect(await store.getTokens()).toEqual([]);
  });

  it('a wrong data center (another accounts server) fails as Zoho says, and stores nothing', async () => {
    const { emulator, store } = await start();
    const other = await start({}, { clients: [{ clientId: 'someone-else', clientSecret: 'x' }] });
    const manager = new TokenManager({
      store,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: other.emulator.url,
    });
    const error = await manager.authorize({ grantToken: emulator.issueGrantToken() }).catch((e) => e);
    expect(error).toBeInstanceOf(ZohoOAuthError);
    expect(error.zohoError).toBe('invalid_client');
    expect(await store.getTokens()).toEqual([]);
  });

  it('a failed store write fires no save event, reports the error, and still serves the new token', async () => {
    const { emulator, manager, store } = await start();
    const token = await manager.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    const events: string[] = [];
    manager.on('save', () => events.push('save'));
    manager.on('refresh', () => events.push('refresh'));
    manager.on('error', (e) => events.push(`error:${e instanceof TokenStoreError ? e.reason : e.name}:${e.message}`));
    (store as CountingStore).failSaves = true;
    emulator.clock.advance(2 * HOUR);
    const access = await manager.getAccessToken({ userName: 'alice' });
    expect(access).not.toBe(token.accessToken);
    // The store's own error, as a TokenStoreError (scrubbed of secrets: scrubbing-store.ts).
    expect(events).toEqual(['error:WRITE_FAILED:saveToken failed in CountingStore: Error: disk full']);
    expect((await store.findTokenById(token.id))?.accessToken).toBe(token.accessToken);
  });

  it('rejects missing configuration, naming the option', () => {
    const store = new MemoryStore();
    expect(() => new TokenManager({ store, clientId: '', clientSecret: 's' })).toThrow(/clientId/);
    expect(() => new TokenManager({ store, clientId: 'c', clientSecret: '' })).toThrow(/clientSecret/);
  });
});
