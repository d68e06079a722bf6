/**
 * Users in several data centers through one manager: a US and an EU emulator and an AU sandbox
 * emulator on loopback share one client registration. Every exchange, refresh, revoke and API
 * call must reach its own DC's server (counted on each), a token moved to another DC's server is
 * refused there, and a tampered apiDomain sends nothing anywhere. On SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UntrustedHostError, type ZohoOAuthError } from '../../src/errors.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import type { TokenStore } from '../../src/store.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { apiBaseFor } from '../../src/zoho/products.js';
import { booksOrganizationId } from '../../src/zoho/emulator/books-routes.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropPostgresTable, postgresTarget } from '../stores/helpers/sql-admin.js';

const postgresUp = await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL');

let us: Emulator;
let eu: Emulator;
let au: Emulator;
/** A server that counts every request: no secret may ever reach it. */
let trap: Server;
let trapUrl = '';
let trapHits = 0;

beforeAll(async () => {
  us = await startEmulator({ dataCenter: 'US', users: [{ email: 'ann@us.example', zgid: '100' }] });
  eu = await startEmulator({ dataCenter: 'EU', users: [{ email: 'eva@eu.example', zgid: '200' }] });
  au = await startEmulator({ dataCenter: 'AU', environment: 'sandbox', users: [{ email: 'abe@au.example', zgid: '300' }] });
  trap = createServer((_req, res) => {
    trapHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"x","expires_in":3600}');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all([us?.close(), eu?.close(), au?.close(), new Promise((resolve) => trap?.close(resolve))]);
});

function managerOn(store: TokenStore, extra: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}): TokenManager {
  return new TokenManager({
    store,
    ...DEFAULT_CLIENT,
    dataCenter: 'US',
    dataCenterUrls: { US: { accountsUrl: us.url }, EU: { accountsUrl: eu.url }, AU: { accountsUrl: au.url } },
    resolveUserName: false,
    now: () => us.clock.now(),
    ...extra,
  });
}

/** Each emulator's counters as [token requests, refreshes, API calls, revocations]. */
function tally(): Record<string, number[]> {
  const of = (e: Emulator) => [e.counters.tokenRequests, e.counters.refreshes, e.counters.apiCalls, e.counters.revocations];
  return { US: of(us), EU: of(eu), AU: of(au) };
}

const stores: { name: string; available: boolean; open(): Promise<{ store: TokenStore; cleanup(): Promise<void> }> }[] = [
  {
    name: 'SQLiteStore',
    available: true,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'ztoken-multidc-'));
      const store = new SQLiteStore({ path: join(dir, 'tokens.db') });
      return { store, cleanup: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  },
  {
    name: 'PostgresStore',
    available: postgresUp,
    async open() {
      const table = uniqueName('multidc');
      const store = new PostgresStore({ ...postgresTarget(), table });
      return { store, cleanup: async () => (await store.close(), await dropPostgresTable(table)) };
    },
  },
];

for (const kind of stores) {
  describe.skipIf(!kind.available)(`three data centers through one manager (${kind.name})`, () => {
    let store: TokenStore;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ store, cleanup } = await kind.open());
    });
    afterAll(async () => cleanup?.());
    afterEach(() => {
      for (const e of [us, eu, au]) e.resetCounters();
      trapHits = 0;
    });

    it('authorizes, refreshes, calls and revokes each user at its own DC', async () => {
      const manager = managerOn(store);
      const ann = await manager.authorize({ grantToken: us.issueGrantToken(), userName: 'ann' });
      // What Zoho's redirect carries: the accounts server, or the location.
      const eva = await manager.authorize({ grantToken: eu.issueGrantToken(), userName: 'eva', accountsServer: eu.url });
      const abe = await manager.authorize({ grantToken: au.issueGrantToken(), userName: 'abe', location: 'au' });
      expect([ann.apiDomain, eva.apiDomain, abe.apiDomain]).toEqual([us.url, eu.url, au.url]);
      expect([manager.locate(ann).dataCenter, manager.locate(eva).dataCenter, manager.locate(abe).dataCenter]).toEqual(['US', 'EU', 'AU']);
      expect(tally()).toEqual({ US: [1, 0, 0, 0], EU: [1, 0, 0, 0], AU: [1, 0, 0, 0] });

      // An API call per user goes to that user's DC.
      for (const userName of ['ann', 'eva', 'abe']) {
        const response = await manager.fetch({ userName }, 'crm/v8/users?type=CurrentUser');
        expect(response.status).toBe(200);
      }
      expect(tally()).toEqual({ US: [1, 0, 1, 0], EU: [1, 0, 1, 0], AU: [1, 0, 1, 0] });

      // Past expiry, every refresh goes to the user's own accounts server (a US-only manager
      // would have sent the EU and AU refresh tokens to the US one, which refuses them).
      for (const e of [us, eu, au]) e.clock.advance(3_600_000 + 1);
      manager.clearCache();
      for (const userName of ['ann', 'eva', 'abe']) await manager.getAccessToken({ userName });
      expect(tally()).toEqual({ US: [2, 1, 1, 0], EU: [2, 1, 1, 0], AU: [2, 1, 1, 0] });

      for (const userName of ['ann', 'eva', 'abe']) await manager.revoke({ userName });
      expect(tally()).toEqual({ US: [2, 1, 1, 1], EU: [2, 1, 1, 1], AU: [2, 1, 1, 1] });
      expect(await store.getTokens()).toEqual([]);
    });

    it("refuses a token moved to another DC's server, with Zoho's answer, and keeps the row", async () => {
      const manager = managerOn(store);
      const eva = await manager.authorize({ grantToken: eu.issueGrantToken(), userName: 'eva-moved', location: 'eu' });
      // Someone points the row at the US server: the US emulator never issued that refresh token.
      await store.saveToken({ ...eva, apiDomain: us.url, expiryTime: 1 });
      manager.clearCache();
      const error = await manager.getAccessToken({ userName: 'eva-moved' }).catch((e: unknown) => e);
      expect((error as Error).name).toBe('ReauthorizationRequiredError');
      expect(((error as Error).cause as ZohoOAuthError).zohoError).toBe('invalid_code');
      expect(us.counters.rejected).toEqual({ invalid_code: 1 });
      expect(eu.counters.refreshes).toBe(0);
      expect((await store.findTokenById(eva.id))?.refreshToken).toBe(eva.refreshToken);
      await store.deleteToken(eva.id);
    });

    it('a tampered apiDomain makes no request anywhere and changes nothing in the store', async () => {
      const manager = managerOn(store);
      const ann = await manager.authorize({ grantToken: us.issueGrantToken(), userName: 'ann-tampered' });
      us.resetCounters();
      for (const apiDomain of [trapUrl, 'https://evil.example', 'http://www.zohoapis.com', 'https://www.zohoapis.com.evil.example']) {
        const tampered = await store.saveToken({ ...ann, apiDomain, expiryTime: 1 });
        const before = await store.findTokenById(tampered.id);
        manager.clearCache();
        for (const call of [
          () => manager.getAccessToken({ userName: 'ann-tampered' }),
          () => manager.fetch({ userName: 'ann-tampered' }, 'crm/v8/org'),
          () => manager.revoke({ userName: 'ann-tampered' }),
        ]) {
          const error = await call().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(UntrustedHostError);
          expect((error as UntrustedHostError).code).toBe('UNTRUSTED_HOST');
          expect((error as Error).message).not.toContain(ann.refreshToken ?? '-');
        }
        expect(await store.findTokenById(tampered.id)).toEqual(before);
      }
      expect(trapHits).toBe(0);
      expect(tally()).toEqual({ US: [0, 0, 0, 0], EU: [0, 0, 0, 0], AU: [0, 0, 0, 0] });
      await store.deleteToken(ann.id);
    });
  });
}

describe('hosts a secret may go to', () => {
  it('refuses an accounts server outside the table, and a full API URL outside the DC unless asked', async () => {
    const manager = managerOn(new SQLiteStore({ path: ':memory:' }));
    const refused = await manager.authorize({ grantToken: '1000.abc', accountsServer: trapUrl }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UntrustedHostError);
    expect((refused as UntrustedHostError).reason).toBe('ACCOUNTS_SERVER');
    const ann = await manager.authorize({ grantToken: us.issueGrantToken(), userName: 'ann-urls' });
    const full = await manager.fetch({ id: ann.id }, `${trapUrl}/crm/v8/org`).catch((e: unknown) => e);
    expect((full as UntrustedHostError).reason).toBe('API_URL');
    expect(trapHits).toBe(0);
    // On purpose, it goes.
    expect((await manager.fetch({ id: ann.id }, `${trapUrl}/anything`, { allowAnyHost: true })).status).toBe(200);
    expect(trapHits).toBe(1);
    // A full URL on the token's own (override) API domain is fine.
    expect((await manager.fetch({ id: ann.id }, `${us.url}/crm/v8/org`)).status).toBe(200);
    await manager.store.close();
  });

  it('routes a product path to its base in the DC, with the organization id', async () => {
    const manager = managerOn(new SQLiteStore({ path: ':memory:' }));
    const eva = await manager.authorize({ grantToken: eu.issueGrantToken(), userName: 'eva-books', location: 'EU' });
    const orgs = (await (await manager.fetch({ id: eva.id }, 'organizations', { product: 'books' })).json()) as {
      organizations: { organization_id: string }[];
    };
    const organizationId = orgs.organizations[0]?.organization_id ?? '';
    expect(organizationId).toBe(booksOrganizationId({ id: '', email: 'eva@eu.example', zgid: '200', name: '' }));
    const invoices = await manager.fetch({ id: eva.id }, 'invoices', { product: 'books', organizationId });
    expect(invoices.status).toBe(200);
    const without = await manager.fetch({ id: eva.id }, 'invoices', { product: 'books' });
    expect(without.status).toBe(400);
    expect(eu.counters.apiCallsByProduct).toMatchObject({ books: 3 });
    expect(us.counters.apiCallsByProduct.books ?? 0).toBe(0);
    await manager.store.close();
  });

  it('knows each product host per DC', () => {
    expect(apiBaseFor('crm', 'EU')).toBe('https://www.zohoapis.eu/crm/v8');
    expect(apiBaseFor('crm', 'AU', 'sandbox')).toBe('https://sandbox.zohoapis.com.au/crm/v8');
    expect(apiBaseFor('books', 'IN')).toBe('https://www.zohoapis.in/books/v3');
    expect(apiBaseFor('desk', 'CA')).toBe('https://desk.zohocloud.ca/api/v1');
    expect(apiBaseFor('mail', 'JP')).toBe('https://mail.zoho.jp/api');
    expect(apiBaseFor('projects', 'CN')).toBe('https://projectsapi.zoho.com.cn/api/v3');
    expect(apiBaseFor('recruit', 'SA')).toBe('https://recruit.zoho.sa/recruit/v2');
    expect(apiBaseFor('bigin', 'US')).toBe('https://www.zohoapis.com/bigin/v2');
    expect(apiBaseFor('inventory', 'EU')).toBe('https://www.zohoapis.eu/inventory/v1');
    expect(() => apiBaseFor('books', 'US', 'sandbox')).toThrow(/books has no sandbox/);
  });

  it('decides a Zoho token DC from its apiDomain, and the configured DC when it has none', () => {
    const manager = new TokenManager({ store: new SQLiteStore({ path: ':memory:' }), ...DEFAULT_CLIENT, dataCenter: 'IN' });
    expect(manager.locate({ apiDomain: 'https://www.zohoapis.eu' })).toMatchObject({
      dataCenter: 'EU',
      environment: 'production',
      accountsUrl: 'https://accounts.zoho.eu',
      source: 'apiDomain',
    });
    expect(manager.locate({ apiDomain: 'https://developer.zohoapis.ca' })).toMatchObject({ dataCenter: 'CA', environment: 'developer' });
    expect(manager.locate({})).toMatchObject({ dataCenter: 'IN', accountsUrl: 'https://accounts.zoho.in', source: 'configured' });
    expect(() => manager.locate({ apiDomain: 'https://www.zohoapis.eu:8443' })).toThrow(UntrustedHostError);
  });

  it('the emulator names its DC in the login redirect and lists DC servers at /oauth/serverinfo (US only)', async () => {
    const redirect = new URL(`${eu.url}/oauth/v2/auth`);
    redirect.search = new URLSearchParams({
      client_id: DEFAULT_CLIENT.clientId,
      response_type: 'code',
      redirect_uri: DEFAULT_CLIENT.redirectUris?.[0] ?? '',
      access_type: 'offline',
    }).toString();
    const answer = await fetch(redirect, { redirect: 'manual' });
    const target = new URL(answer.headers.get('location') ?? '');
    expect(target.searchParams.get('location')).toBe('eu');
    expect(target.searchParams.get('accounts-server')).toBe(eu.url);
    const info = (await (await fetch(`${us.url}/oauth/serverinfo`)).json()) as { result: string; locations: Record<string, string> };
    expect(info.result).toBe('success');
    expect(info.locations).toMatchObject({ us: us.url, eu: 'https://accounts.zoho.eu', ca: 'https://accounts.zohocloud.ca' });
    expect((await fetch(`${eu.url}/oauth/serverinfo`)).status).toBe(404);
  });
});
