/**
 * Fleet-safe refresh, proven with real processes: 4 child processes x 25 concurrent callers share
 * one store and reach an expired token together; the emulator (owned by this process) must see
 * exactly one refresh. Run for the SQLite file and for every other store that exists and whose
 * service is reachable. The benchmark (bench/suites/fleet.ts) does 8 x 50 and a 24-hour soak.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenManager } from '../../src/manager/token-manager.js';
import type { TokenStore } from '../../src/store.js';
import { openStore } from '../../src/stores/url.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { Fleet, FleetProcess, type RaceResult, refreshLockKey } from './helpers/fleet-driver.js';
import { fleetStores } from './helpers/fleet-stores.js';

const PROCESSES = 4;
const CALLERS = 25;
const LOCK_TTL_MS = 1_500;
const USER = 'alice@zylker.com';
/**
 * Zoho answers after this long, so refreshes of processes that do not coordinate really overlap
 * even when a loaded machine starts the processes' callers some way apart.
 */
const ZOHO_LATENCY_MS = 250;

const CONFIG = {
  clientId: DEFAULT_CLIENT.clientId,
  clientSecret: DEFAULT_CLIENT.clientSecret,
  userName: USER,
  lockTtlMs: LOCK_TTL_MS,
};

const dir = mkdtempSync(join(tmpdir(), 'ztoken-fleet-'));
const stores = await fleetStores(dir);

// One emulator and one fleet serve every store in turn: spawning processes is the slow part.
let emulator: Emulator;
let fleet: Fleet;
beforeAll(async () => {
  emulator = await startEmulator({ latencyMs: ZOHO_LATENCY_MS });
  fleet = await Fleet.start(PROCESSES, emulator, CONFIG);
}, 60_000);
afterAll(async () => {
  await fleet?.close();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** A fifth process on the store, to take the refresh lock and be killed. */
async function spawnHolder(storeUrl: string): Promise<FleetProcess> {
  const holder = await FleetProcess.spawn({ ...CONFIG, accountsUrl: emulator.url });
  await holder.request({ cmd: 'use', storeUrl });
  return holder;
}

for (const entry of stores) {
  describe.skipIf(entry.skip !== null)(`a fleet of ${PROCESSES} processes x ${CALLERS} callers on ${entry.name}`, () => {
    let store: TokenStore;
    let holder: FleetProcess;
    let tokenId: string;

    beforeAll(async () => {
      store = await openStore(entry.url);
      const parent = new TokenManager({
        store,
        clientId: DEFAULT_CLIENT.clientId,
        clientSecret: DEFAULT_CLIENT.clientSecret,
        accountsUrl: emulator.url,
        now: () => emulator.clock.now(),
        resolveUserName: false,
      });
      tokenId = (await parent.authorize({ grantToken: emulator.issueGrantToken({ userEmail: USER }), userName: USER })).id;
      [, holder] = await Promise.all([fleet.use(entry.url), spawnHolder(entry.url)]);
      // Every process has served the valid token once, so it sits in each process's cache.
      for (const mode of ['coordinated', 'uncoordinated'] as const) {
        const primed = await fleet.getAll(mode, 1);
        expect(primed.refreshes).toBe(0);
        expect(primed.failures).toEqual([]);
      }
    }, 60_000);

    afterAll(async () => {
      await Promise.all([fleet.use(null), holder?.close()]);
      await store?.deleteTokens().catch(() => undefined);
      await store?.close();
      await entry.cleanup();
    }, 30_000);

    async function expectOneRefreshServedToAll(race: RaceResult, previous: string | undefined) {
      expect(race.failures).toEqual([]);
      expect(race.callersServed).toBe(PROCESSES * CALLERS);
      expect(race.refreshes).toBe(1);
      expect(race.refreshEvents).toBe(1);
      const tokens = Object.keys(race.tokens);
      expect(tokens).toHaveLength(1);
      expect(tokens[0]).not.toBe(previous);
      expect((await store.findTokenById(tokenId))?.accessToken).toBe(tokens[0]);
      return tokens[0]!;
    }

    it('every caller of every process gets the same new token from exactly one refresh, expiry after expiry', async () => {
      let previous = (await store.findTokenById(tokenId))?.accessToken;
      for (let round = 0; round < 2; round++) {
        previous = await expectOneRefreshServedToAll(await fleet.raceForExpiredToken('coordinated', CALLERS), previous);
      }
    }, 30_000);

    it('with coordinate: false the processes refresh on their own (what the lock prevents)', async () => {
      const race = await fleet.raceForExpiredToken('uncoordinated', CALLERS);
      expect(race.failures).toEqual([]);
      expect(race.callersServed).toBe(PROCESSES * CALLERS);
      // Still one refresh per process (single flight), but more than one across the fleet.
      expect(race.refreshes).toBeGreaterThan(1);
      expect(race.refreshes).toBeLessThanOrEqual(PROCESSES);
      expect(race.refreshEvents).toBe(race.refreshes);
      expect(Object.keys(race.tokens).length).toBe(race.refreshes);
    }, 30_000);

    it('a process killed while holding the refresh lock delays the fleet by at most the lock ttl; one refresh happens', async () => {
      const previous = (await store.findTokenById(tokenId))?.accessToken;
      const held = await holder.request({ cmd: 'hold', key: refreshLockKey(DEFAULT_CLIENT.clientId, tokenId), ttlMs: LOCK_TTL_MS });
      await holder.kill();
      expect(() => process.kill(holder.pid, 0)).toThrow(/ESRCH/);

      const race = await fleet.raceForExpiredToken('coordinated', CALLERS);
      await expectOneRefreshServedToAll(race, previous);
      // The dead holder's lock can block the fleet only until it expires (plus poll intervals,
      // Zoho's answer and a loaded machine's scheduling), counted from when it was taken.
      // Without the ttl the fleet would wait for its acquire limit (5 s) and fail.
      expect(race.finishedAt - held.lockedAt!).toBeLessThan(LOCK_TTL_MS + ZOHO_LATENCY_MS + 1_500);
    }, 30_000);
  });
}
