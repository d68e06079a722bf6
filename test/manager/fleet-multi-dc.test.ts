/**
 * A fleet serving users of two data centers from one store: 3 child processes x 10 callers ask for
 * a US user's and an EU user's expired tokens at once. Each DC's emulator must see exactly one
 * refresh (its own user's), and no call may fail: a manager that sent the EU refresh token to the
 * US accounts server would get invalid_code and a re-authorization error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenManager } from '../../src/manager/token-manager.js';
import type { TokenStore } from '../../src/store.js';
import { openStore } from '../../src/stores/url.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { emulatorOffset, Fleet } from './helpers/fleet-driver.js';

const PROCESSES = 3;
const CALLERS = 10;
const US_USER = 'ann@us.example';
const EU_USER = 'eva@eu.example';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-fleet-dc-'));
const storeUrl = `sqlite:${join(dir, 'fleet.db')}`;
let us: Emulator;
let eu: Emulator;
let fleet: Fleet;
let store: TokenStore;

beforeAll(async () => {
  const startTime = Date.now();
  us = await startEmulator({ dataCenter: 'US', startTime, latencyMs: 50, users: [{ email: US_USER }] });
  eu = await startEmulator({ dataCenter: 'EU', startTime, latencyMs: 50, users: [{ email: EU_USER }] });
  const dataCenterUrls = { US: { accountsUrl: us.url }, EU: { accountsUrl: eu.url } };
  store = await openStore(storeUrl);
  const parent = new TokenManager({ store, ...DEFAULT_CLIENT, dataCenterUrls, now: () => us.clock.now(), resolveUserName: false });
  await parent.authorize({ grantToken: us.issueGrantToken({ userEmail: US_USER }), userName: US_USER });
  await parent.authorize({ grantToken: eu.issueGrantToken({ userEmail: EU_USER }), userName: EU_USER, location: 'eu' });
  fleet = await Fleet.start(PROCESSES, us, { ...DEFAULT_CLIENT, userName: US_USER, lockTtlMs: 2_000, dataCenterUrls });
  await fleet.use(storeUrl);
}, 60_000);

afterAll(async () => {
  await fleet?.close();
  await store?.close();
  await Promise.all([us?.close(), eu?.close()]);
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe(`a fleet of ${PROCESSES} processes serving users of two DCs from one store`, () => {
  it('refreshes each user once, at its own DC, with zero failed calls', async () => {
    // Both DCs' clocks move together past the access tokens' expiry.
    us.clock.advance(us.limits.accessTtlMs);
    eu.clock.advance(eu.limits.accessTtlMs);
    const offset = emulatorOffset(us);
    const replies = await Promise.all(
      fleet.processes.flatMap((process) =>
        [US_USER, EU_USER].map((userName) => process.request({ cmd: 'get', offset, mode: 'coordinated', callers: CALLERS, userName })),
      ),
    );
    const failures = replies.flatMap((reply) => reply.failures ?? []);
    expect(failures).toEqual([]);
    const served = replies.reduce((sum, reply) => sum + Object.values(reply.tokens ?? {}).reduce((a, b) => a + b, 0), 0);
    expect(served).toBe(PROCESSES * CALLERS * 2);
    expect(us.counters.refreshes).toBe(1);
    expect(eu.counters.refreshes).toBe(1);
    expect(us.counters.rejected).toEqual({});
    expect(eu.counters.rejected).toEqual({});
    // Every caller of a user got that user's one new access token.
    const byUser = (userName: string) =>
      new Set(replies.filter((_, i) => (i % 2 === 0 ? US_USER : EU_USER) === userName).flatMap((r) => Object.keys(r.tokens ?? {})));
    expect(byUser(US_USER).size).toBe(1);
    expect(byUser(EU_USER).size).toBe(1);
    expect([...byUser(US_USER)][0]).not.toBe([...byUser(EU_USER)][0]);
  }, 60_000);
});
