/**
 * The broker's life over loopback on a SQLite file, with a slow emulator (every Zoho answer
 * takes 700 ms, so a refresh is long enough to interrupt): a broker killed mid-refresh leaves
 * the other serving within the lock ttl; SIGTERM drains a request in flight and exits 0; SIGHUP
 * rereads the keys; bad bodies get 400/413; wrong keys are rate-limited; a non-loopback address
 * needs TLS or --insecure-http.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerClient } from '../../src/broker/client.js';
import { addKey, KeyRing, readKeysFile } from '../../src/broker/keys-file.js';
import { Broker } from '../../src/broker/server.js';
import { main } from '../../src/cli/program.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import type { TokenStore } from '../../src/store.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { openStore } from '../../src/stores/url.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { askToken, BrokerProcess, sleep } from './helpers.js';

const LATENCY_MS = 700;
const LOCK_TTL_MS = 2_000;
const ALICE = 'alice@zylker.com';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-broker-life-'));
let emulator: Emulator;
let store: TokenStore;
let manager: TokenManager;
const keysFile = join(dir, 'keys.json');
let key: string;
const running: BrokerProcess[] = [];

async function freshStore(name: string): Promise<{ url: string; id: string }> {
  const url = `sqlite:${join(dir, `${name}.db`)}`;
  await store?.close();
  store = await openStore(url);
  manager = new TokenManager({
    store,
    clientId: DEFAULT_CLIENT.clientId,
    clientSecret: DEFAULT_CLIENT.clientSecret,
    accountsUrl: emulator.url,
    resolveUserName: false,
  });
  const token = await manager.authorize({ grantToken: emulator.issueGrantToken({ userEmail: ALICE }), userName: ALICE });
  return { url, id: token.id };
}

async function start(url: string, extra: Partial<Parameters<typeof BrokerProcess.start>[0]> = {}) {
  const broker = await BrokerProcess.start({ storeUrl: url, keysFile, emulator, lockTtl: `${LOCK_TTL_MS}ms`, ...extra });
  running.push(broker);
  return broker;
}

beforeAll(async () => {
  emulator = await startEmulator({ latencyMs: LATENCY_MS, limits: { accessTtlMs: 4_000 } });
  key = addKey(keysFile, 'app', { all: true, ids: [], users: [] });
});

afterAll(async () => {
  await Promise.all(running.map((b) => b.stop()));
  await store?.close();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('broker lifecycle', () => {
  it('the keys file holds only hashes, mode 0600', () => {
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    const [entry] = readKeysFile(keysFile);
    expect(entry?.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(readKeysFile(keysFile))).not.toContain(key);
    expect(new KeyRing(readKeysFile(keysFile)).find(key)?.name).toBe('app');
    // Another last character (the key's own is 'A' once in 64 keys, which made this flaky).
    const wrong = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(new KeyRing(readKeysFile(keysFile)).find(wrong)).toBeNull();
  });

  it('killing a broker mid-refresh leaves the other serving within the lock ttl', async () => {
    const { url } = await freshStore('kill');
    // Both refresh 3 s ahead of a 4 s token: within a moment of starting, one of them calls Zoho.
    const [a, b] = await Promise.all([start(url, { refreshAhead: '3500ms' }), start(url, { refreshAhead: '3500ms' })]);
    const calling = await Promise.race(
      [a, b].map((broker) => broker.waitFor((l) => l.event === 'zoho-token-call' && l.phase === 'start').then(() => broker)),
    );
    calling!.signal('SIGKILL');
    const killedAt = Date.now();
    await calling!.exited;
    const survivor = calling === a ? b : a;
    const before = (await store.findToken({ userName: ALICE }))!;
    // Readers of the survivor are served throughout (the old token is still valid)...
    const client = new BrokerClient({ url: survivor!.url, key, marginMs: 0 });
    const failures: string[] = [];
    let fresh: string | undefined;
    while (Date.now() - killedAt < LOCK_TTL_MS + LATENCY_MS + 3_000) {
      try {
        const token = await askToken(survivor!.url, key, { userName: ALICE });
        if (token.status !== 200) failures.push(`${token.status} ${token.text}`);
        else if (token.json.accessToken !== before.accessToken) {
          fresh = token.json.accessToken as string;
          break;
        }
      } catch (error) {
        failures.push((error as Error).message);
      }
      await sleep(100);
    }
    expect(failures).toEqual([]);
    // ...and it refreshed once the dead broker's lock expired.
    expect(fresh).toBeDefined();
    expect(Date.now() - killedAt).toBeLessThan(LOCK_TTL_MS + LATENCY_MS + 3_000);
    expect((await client.fetch({ userName: ALICE }, '/crm/v8/users?type=CurrentUser')).status).toBe(200);
    await survivor!.stop();
  }, 40_000);

  it('SIGTERM drains the request in flight, then exits 0', async () => {
    const { url, id } = await freshStore('drain');
    // Expired in the store: the first request waits on a refresh (700 ms at the slow emulator).
    const token = (await store.findTokenById(id))!;
    await store.saveToken({ ...token, expiryTime: Date.now() - 1_000 });
    const broker = await start(url);
    const pending = askToken(broker.url, key, { id });
    await broker.waitFor((l) => l.event === 'zoho-token-call' && l.phase === 'start');
    broker.signal('SIGTERM');
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.json.accessToken).not.toBe(token.accessToken);
    expect(await broker.exited).toEqual({ code: 0, signal: null });
    expect(broker.lines.map((l) => l.event)).toContain('stopped');
    await expect(askToken(broker.url, key, { id })).rejects.toThrow();
  }, 30_000);

  it('SIGHUP rereads the keys; bad bodies get 400 / 413; wrong keys are rate-limited', async () => {
    const { url, id } = await freshStore('hup');
    const broker = await start(url);
    const second = addKey(keysFile, `late-${Date.now()}`, { all: false, ids: [id], users: [] });
    expect((await askToken(broker.url, second, { id })).status).toBe(401);
    broker.signal('SIGHUP');
    await broker.waitFor((l) => l.event === 'keys-reloaded');
    expect((await askToken(broker.url, second, { id })).status).toBe(200);

    const malformed = await askToken(broker.url, key, '{"id": 1');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toBe('MALFORMED_JSON');
    const sneaky = await askToken(broker.url, key, { refreshToken: 'planted-refresh-token-value' });
    expect(sneaky.status).toBe(400);
    expect(sneaky.text).not.toContain('planted-refresh-token-value');
    expect((await askToken(broker.url, key, { id: 'x'.repeat(20_000) })).status).toBe(413);
    expect((await askToken(broker.url, key, { id: '999' })).status).toBe(404);

    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await askToken(broker.url, 'ztk_wrong', { id })).status);
    // The late key, tried before SIGHUP, was the first of 10 wrong keys this address may send.
    expect(statuses.slice(0, 9)).toEqual(Array(9).fill(401));
    expect(statuses.slice(9)).toEqual([429, 429, 429]);
    // The limit is per address, and it holds even for the right key from that address.
    expect((await askToken(broker.url, key, { id })).status).toBe(429);
    for (const secret of [key, second, DEFAULT_CLIENT.clientSecret]) expect(broker.stdout + broker.stderr).not.toContain(secret);
    await broker.stop();
  }, 30_000);

  it('a non-loopback address needs TLS or --insecure-http (which warns)', async () => {
    const out: string[] = [];
    const stream = { write: (text: string) => out.push(text) > 0, isTTY: false } as unknown as NodeJS.WriteStream;
    const code = await main(['node', 'ztoken', 'serve', '--listen', '0.0.0.0:0', '--keys', keysFile, '--store', 'memory:'], {
      env: { ZOHO_CLIENT_ID: DEFAULT_CLIENT.clientId, ZOHO_CLIENT_SECRET: DEFAULT_CLIENT.clientSecret, NO_COLOR: '1' },
      stdout: stream,
      stderr: stream,
    });
    expect(code).toBe(2);
    expect(out.join('')).toMatch(/not a loopback address: give --tls-cert and --tls-key, or --insecure-http/);

    const logs: Record<string, unknown>[] = [];
    const memory = new MemoryStore();
    const broker = await Broker.start({
      manager: new TokenManager({ store: memory, clientId: 'c', clientSecret: 's', accountsUrl: emulator.url }),
      store: memory,
      keys: new KeyRing(readKeysFile(keysFile)),
      listen: { host: '0.0.0.0', port: 0 },
      insecureHttp: true,
      log: (line) => logs.push(line),
    });
    expect(logs[0]).toMatchObject({ event: 'warning' });
    expect(String(logs[0]?.message)).toMatch(/plain HTTP on 0\.0\.0\.0/);
    await broker.close();
  });

  it('with --tls-cert / --tls-key it serves HTTPS on a non-loopback address without a warning', async () => {
    const cert = join(dir, 'cert.pem');
    const tlsKey = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        tlsKey,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const logs: Record<string, unknown>[] = [];
    const memory = new MemoryStore();
    const tm = new TokenManager({
      store: memory,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      resolveUserName: false,
      refreshSkewMs: 500,
    });
    const token = await tm.authorize({ grantToken: emulator.issueGrantToken({ userEmail: ALICE }), userName: ALICE });
    const broker = await Broker.start({
      manager: tm,
      store: memory,
      keys: new KeyRing(readKeysFile(keysFile)),
      listen: { host: '0.0.0.0', port: 0 },
      tls: { cert: readFileSync(cert), key: readFileSync(tlsKey) },
      log: (line) => logs.push(line),
    });
    expect(broker.url).toMatch(/^https:/);
    expect(logs.filter((l) => l.event === 'warning')).toEqual([]);
    const port = new URL(broker.url).port;
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/access-token',
          method: 'POST',
          ca: readFileSync(cert),
          servername: 'localhost',
          headers: { Authorization: `Bearer ${key}` },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += String(d)));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ userName: ALICE }));
    });
    expect(JSON.parse(body)).toMatchObject({ accessToken: token.accessToken, dataCenter: 'US' });
    await broker.close();
  });
});
