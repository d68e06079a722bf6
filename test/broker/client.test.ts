/**
 * BrokerClient against an in-process broker (MemoryStore, the emulator): no imports at all,
 * one request for many concurrent callers, a cache until just before expiry, one re-ask after a
 * 401 INVALID_TOKEN (which makes the broker refresh once), and the Lambda example. Also
 * `manager.startAutoRefresh` on its own, for long-running apps without a broker.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient, BrokerError } from '../../src/broker/client.js';
import { hashKey, KeyRing, newKey } from '../../src/broker/keys-file.js';
import { Broker } from '../../src/broker/server.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';

const ALICE = 'alice@zylker.com';
let emulator: Emulator;
let store: MemoryStore;
let manager: TokenManager;
let broker: Broker;
const key = newKey();

const accessTokenRequests = async () =>
  (await broker.metrics.registry.getSingleMetricAsString('ztoken_broker_requests_total'))
    .split('\n')
    .filter((l) => l.includes('route="access-token"') && l.includes('status="200"'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

beforeAll(async () => {
  emulator = await startEmulator();
  store = new MemoryStore();
  manager = new TokenManager({
    store,
    clientId: DEFAULT_CLIENT.clientId,
    clientSecret: DEFAULT_CLIENT.clientSecret,
    accountsUrl: emulator.url,
    resolveUserName: false,
  });
  await manager.authorize({ grantToken: emulator.issueGrantToken({ userEmail: ALICE }), userName: ALICE });
  broker = await Broker.start({
    manager,
    store,
    keys: new KeyRing([{ name: 'app', hash: hashKey(key), grants: { all: false, ids: [], users: [ALICE] }, created: '' }]),
    listen: { host: '127.0.0.1', port: 0 },
  });
});

afterAll(async () => {
  await broker?.close();
  await emulator?.close();
});

describe('BrokerClient', () => {
  it('imports nothing: it runs where only fetch exists', () => {
    const source = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'broker', 'client.ts'), 'utf8');
    expect(source).not.toMatch(/^\s*import\s/m);
    expect(source).not.toMatch(/\brequire\(/);
  });

  it('collapses concurrent calls into one request and caches the answer', async () => {
    const client = new BrokerClient({ url: broker.url, key });
    const before = await accessTokenRequests();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => client.getAccessToken({ userName: ALICE })));
    expect(new Set(tokens).size).toBe(1);
    expect(await client.getAccessToken({ userName: ALICE })).toBe(tokens[0]);
    expect((await accessTokenRequests()) - before).toBe(1);
    const whole = await client.getToken({ userName: ALICE });
    expect(whole).toMatchObject({ apiDomain: emulator.url, dataCenter: 'US' });
    expect(whole.expiresAt).toBeGreaterThan(Date.now());
  });

  it('after a 401 INVALID_TOKEN asks the broker once more, which refreshes once, and retries once', async () => {
    const client = new BrokerClient({ url: broker.url, key });
    const old = await client.getAccessToken({ userName: ALICE });
    emulator.invalidateAccessToken(old);
    const refreshes = emulator.counters.refreshes;
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => client.fetch({ userName: ALICE }, '/crm/v8/users?type=CurrentUser')),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(emulator.counters.refreshes - refreshes).toBe(1);
    expect(await client.getAccessToken({ userName: ALICE })).not.toBe(old);
  });

  it('refuses to send the token to another origin, and reports broker refusals with their code', async () => {
    const client = new BrokerClient({ url: broker.url, key });
    await expect(client.fetch({ userName: ALICE }, 'https://evil.example.com/steal')).rejects.toThrow(/not the token's API domain/);
    await expect(client.getAccessToken({ userName: 'bob@zylker.com' })).rejects.toMatchObject({ code: 'NOT_GRANTED', status: 403 });
    const wrong = new BrokerClient({ url: broker.url, key: 'ztk_nope' });
    const error = await wrong.getAccessToken({ userName: ALICE }).catch((e: BrokerError) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).status).toBe(401);
    const down = new BrokerClient({ url: 'http://127.0.0.1:1', key });
    await expect(down.getAccessToken({ userName: ALICE })).rejects.toMatchObject({ code: 'UNREACHABLE', status: 0 });
  });

  it('the Lambda example calls Zoho through the broker', async () => {
    process.env.ZTOKEN_BROKER_URL = broker.url;
    process.env.ZTOKEN_BROKER_KEY = key;
    process.env.ZOHO_USER = ALICE;
    const { handler } = await import('../../examples/lambda-handler.js');
    const result = await handler({ perPage: 2 });
    expect(result.statusCode).toBe(200);
    expect((JSON.parse(result.body) as { data: unknown[] }).data).toHaveLength(2);
  });
});

describe('manager.startAutoRefresh', () => {
  it('refreshes a token before it expires with no caller, and stops', async () => {
    const emu = await startEmulator({ limits: { accessTtlMs: 3_000 } });
    const memory = new MemoryStore();
    const m = new TokenManager({
      store: memory,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emu.url,
      resolveUserName: false,
      refreshSkewMs: 500,
    });
    const token = await m.authorize({ grantToken: emu.issueGrantToken({ userEmail: ALICE }), userName: ALICE });
    const results: boolean[] = [];
    const stop = m.startAutoRefresh({ aheadMs: 2_900, jitterMs: 0, onResult: (r) => results.push(r.ok) });
    const deadline = Date.now() + 5_000;
    while (emu.counters.refreshes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    await stop();
    expect(emu.counters.refreshes).toBe(1);
    expect(results).toEqual([true]);
    const stored = (await memory.findTokenById(token.id))!;
    expect(stored.accessToken).not.toBe(token.accessToken);
    expect(stored.expiryTime!).toBeGreaterThan(token.expiryTime!);
    await emu.close();
  });

  it('under a throttle keeps the valid token and reports the failure', async () => {
    const emu = await startEmulator({ limits: { accessTtlMs: 3_000, accessPerRefreshPer10Min: 1 } });
    const memory = new MemoryStore();
    const m = new TokenManager({
      store: memory,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emu.url,
      resolveUserName: false,
      refreshSkewMs: 500,
    });
    const token = await m.authorize({ grantToken: emu.issueGrantToken({ userEmail: ALICE }), userName: ALICE });
    const failures: Error[] = [];
    const stop = m.startAutoRefresh({ aheadMs: 2_900, jitterMs: 0, onResult: (r) => !r.ok && failures.push(r.error) });
    const deadline = Date.now() + 5_000;
    while (emu.counters.throttled === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 50));
    await stop();
    // The one refresh Zoho allows, then a throttle: the token of that refresh is still served.
    expect(emu.counters.refreshes).toBe(1);
    expect(emu.counters.throttled).toBe(1);
    expect(failures.length).toBe(1);
    const current = (await memory.findTokenById(token.id))!;
    expect(current.accessToken).not.toBe(token.accessToken);
    expect(await m.getAccessToken({ userName: ALICE })).toBe(current.accessToken);
    await emu.close();
  });
});
