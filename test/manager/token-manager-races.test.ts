/** The manager under concurrency and reuse: ids reused after a delete, revoke racing a refresh, shared grant codes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ReauthorizationRequiredError, TokenStoreError, ZohoOAuthError, ZohoThrottleError } from '../../src/errors.js';
import { TokenManager, type TokenManagerOptions } from '../../src/manager/token-manager.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { CountingStore } from './helpers.js';

const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'ztoken-races-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let emulators: Emulator[] = [];
let stores: SQLiteStore[] = [];
afterEach(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  await Promise.all(stores.map((s) => s.close()));
  emulators = [];
  stores = [];
});

async function emulator(options: Parameters<typeof startEmulator>[0] = {}): Promise<Emulator> {
  const emu = await startEmulator(options);
  emulators.push(emu);
  return emu;
}

/** One SQLite file shared by several managers, each with its own connection: processes in miniature. */
function fleet(emu: Emulator, count: number, options: Partial<TokenManagerOptions> = {}): TokenManager[] {
  const path = join(dir, `f${++n}.db`);
  return Array.from({ length: count }, () => {
    const store = new SQLiteStore({ path });
    stores.push(store);
    return new TokenManager({
      store,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emu.url,
      now: () => emu.clock.now(),
      ...options,
    });
  });
}

describe('ids reused after a delete', () => {
  it('never serves another user the token that took over a deleted id', async () => {
    const emu = await emulator();
    const [a, b] = fleet(emu, 2) as [TokenManager, TokenManager];
    await a.authorize({ grantToken: emu.issueGrantToken({ userEmail: 'bob@zylker.com' }), userName: 'bob' });
    const alice = await a.authorize({ grantToken: emu.issueGrantToken({ userEmail: 'alice@zylker.com' }), userName: 'alice' });
    expect(alice.id).toBe('2');
    await b.revoke({ userName: 'alice' });
    const carol = await b.authorize({ grantToken: emu.issueGrantToken({ userEmail: 'carol@zylker.com' }), userName: 'carol' });
    expect(carol.id).toBe('2'); // Zoho's rule: largest id + 1
    // a still caches alice under id 2; her access token was revoked with her refresh token
    await expect(a.fetch({ userName: 'alice' }, '/crm/v8/users?type=CurrentUser')).rejects.toBeInstanceOf(TokenStoreError);
    emu.clock.advance(2 * HOUR);
    await expect(a.getToken({ userName: 'alice' })).rejects.toThrow(/No stored token for user alice/);
    expect((await a.getToken({ userName: 'carol' })).userName).toBe('carol');
  });
});

describe('revoke', () => {
  it('waits for a refresh in flight, so the refresh cannot write the revoked token back', async () => {
    const emu = await emulator({ latencyMs: 150 });
    const [a, b] = fleet(emu, 2) as [TokenManager, TokenManager];
    await a.authorize({ grantToken: emu.issueGrantToken(), userName: 'alice' });
    emu.clock.advance(2 * HOUR);
    const refreshing = a.getAccessToken({ userName: 'alice' }); // takes the lock, calls Zoho (slow)
    await new Promise((r) => setTimeout(r, 50));
    await b.revoke({ userName: 'alice' });
    await refreshing.catch(() => undefined);
    await a.settle();
    expect(await stores[0]!.getTokens()).toEqual([]);
    expect(emu.counters.revocations).toBe(1);
  });
});

describe('401 with no new token to be had', () => {
  it('throws the throttle error instead of retrying with the refused token, and never serves it again', async () => {
    const emu = await emulator({ limits: { accessPerRefreshPer10Min: 1 } });
    const [a] = fleet(emu, 1) as [TokenManager];
    const token = await a.authorize({ grantToken: emu.issueGrantToken(), userName: 'alice' });
    emu.clock.advance(2 * HOUR);
    const refreshed = await a.getAccessToken({ userName: 'alice' }); // the one refresh allowed in this window
    emu.invalidateAccessToken(refreshed);
    const before = emu.counters.apiCalls;
    await expect(a.fetch({ userName: 'alice' }, '/crm/v8/Leads')).rejects.toBeInstanceOf(ZohoThrottleError);
    expect(emu.counters.apiCalls - before).toBe(1); // no retry with the refused token
    await expect(a.getAccessToken({ userName: 'alice' })).rejects.toBeInstanceOf(ZohoThrottleError);
    expect(token.id).toBe('1');
  });
});

describe('re-authorization marks', () => {
  it('clear when another process authorizes the user again', async () => {
    const emu = await emulator();
    const [a, b] = fleet(emu, 2) as [TokenManager, TokenManager];
    const token = await a.authorize({ grantToken: emu.issueGrantToken(), userName: 'alice' });
    emu.revokeRefreshToken(token.refreshToken!);
    emu.clock.advance(2 * HOUR);
    await expect(a.getAccessToken({ userName: 'alice' })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(a.needsReauthorization(token.id)).toBe(true);
    await b.authorize({ grantToken: emu.issueGrantToken(), userName: 'alice' });
    emu.clock.advance(2 * HOUR);
    expect(await a.getAccessToken({ userName: 'alice' })).toMatch(/^1000\./);
    expect(a.needsReauthorization(token.id)).toBe(false);
  });

  it('are not set by an error that says nothing about the refresh token', async () => {
    const emu = await emulator();
    let failRefresh = false;
    const [a] = fleet(emu, 1, {
      fetch: async (input, init) => {
        if (failRefresh && String(input).includes('/oauth/v2/token')) {
          return new Response(JSON.stringify({ error: 'server_error' }), { status: 500, headers: { 'content-type': 'application/json' } });
        }
        return fetch(input, init);
      },
    }) as [TokenManager];
    const token = await a.authorize({ grantToken: emu.issueGrantToken(), userName: 'alice' });
    failRefresh = true;
    emu.clock.advance(2 * HOUR);
    const error = await a.getAccessToken({ userName: 'alice' }).catch((e) => e);
    expect(error).toBeInstanceOf(ZohoOAuthError);
    expect(a.needsReauthorization(token.id)).toBe(false);
    failRefresh = false;
    expect(await a.getAccessToken({ userName: 'alice' })).toMatch(/^1000\./);
  });
});

describe('a grant code shared by a fleet', () => {
  it('is exchanged once however many managers start with it', async () => {
    const emu = await emulator();
    const managers = fleet(emu, 5);
    const code = emu.issueGrantToken();
    const results = await Promise.all(managers.map((m) => m.getAccessToken({ grantToken: code })));
    expect(new Set(results).size).toBe(1);
    expect(emu.counters.grantExchanges).toBe(1);
    expect(await stores[0]!.getTokens()).toHaveLength(1);
  });
});

describe('while backing off', () => {
  it('calls inside the skew window take no lock and make no request', async () => {
    const emu = await emulator({ limits: { accessPerRefreshPer10Min: 1 } });
    const store = new CountingStore();
    const m = new TokenManager({
      store,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emu.url,
      now: () => emu.clock.now(),
      refreshSkewMs: 59 * 60_000,
    });
    await m.authorize({ grantToken: emu.issueGrantToken(), userName: 'alice' });
    emu.clock.advance(2 * 60_000);
    await m.getAccessToken({ userName: 'alice' });
    await m.settle(); // refresh 1
    emu.clock.advance(2 * 60_000);
    await m.getAccessToken({ userName: 'alice' });
    await m.settle(); // refresh 2: throttled, backing off
    const locks = store.calls.withLock ?? 0;
    const requests = emu.counters.tokenRequests;
    for (let i = 0; i < 5; i++) await m.getAccessToken({ userName: 'alice' });
    expect(store.calls.withLock ?? 0).toBe(locks);
    expect(emu.counters.tokenRequests).toBe(requests);
  });
});

describe('configuration', () => {
  it('an accounts URL of a Zoho data center implies its API domain', () => {
    const store = new CountingStore();
    const eu = new TokenManager({ store, clientId: 'c', clientSecret: 's', accountsUrl: 'https://accounts.zoho.eu' });
    expect(eu.apiDomain).toBe('https://www.zohoapis.eu');
    const local = new TokenManager({ store, clientId: 'c', clientSecret: 's', accountsUrl: 'http://127.0.0.1:8080' });
    expect(local.apiDomain).toBe('http://127.0.0.1:8080');
    const sandbox = new TokenManager({ store, clientId: 'c', clientSecret: 's', dataCenter: 'IN', environment: 'sandbox' });
    expect(sandbox.apiDomain).toBe('https://sandbox.zohoapis.in');
  });
});

describe('fetch with a stream body', () => {
  it('sends the same body again on the retry after a 401', async () => {
    const emu = await emulator();
    const bodies: string[] = [];
    let calls = 0;
    const [a] = fleet(emu, 1, {
      fetch: async (input, init) => {
        if (!String(input).includes('/crm/v8/notes')) return fetch(input, init);
        bodies.push(new TextDecoder().decode(init?.body as ArrayBuffer));
        return ++calls === 1
          ? new Response(JSON.stringify({ code: 'INVALID_TOKEN', details: {}, message: 'invalid oauth token', status: 'error' }), {
              status: 401,
            })
          : new Response('{"ok":true}', { status: 200 });
      },
    }) as [TokenManager];
    await a.authorize({ grantToken: emu.issueGrantToken(), userName: 'alice' });
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"note":"hello"}'));
        controller.close();
      },
    });
    const response = await a.fetch({ userName: 'alice' }, '/crm/v8/notes', { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(200);
    expect(bodies).toEqual(['{"note":"hello"}', '{"note":"hello"}']);
  });
});
