/**
 * Issue 4 benchmark, the fleet: 8 processes x 50 concurrent callers share one store and reach an
 * expired token together. Target: exactly one refresh per expiry across the fleet (the emulator's
 * counter) for each store; beside it the same fleet with `coordinate: false`. Then the soak:
 * 24 simulated hours of 1,000 API calls an hour from that fleet: zero failed calls, zero throttle
 * errors, at most one refresh per access-token lifetime.
 *
 * medianUs of a race row is the time from the start signal until every caller was served (median
 * over the rounds); of a soak row, the wall time of one simulated hour's 1,000 calls. The emulator
 * answers after ZOHO_LATENCY_MS, a modest stand-in for Zoho's real token endpoint (hundreds of ms).
 * The fleet machinery is shared with test/manager/fleet.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenManager } from '../../src/manager/token-manager.js';
import { openStore } from '../../src/stores/url.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { Fleet, type FleetMode, median, type RaceResult } from '../../test/manager/helpers/fleet-driver.js';
import { type FleetStore, fleetStores } from '../../test/manager/helpers/fleet-stores.js';
import type { BenchContext } from '../lib.js';

const PROCESSES = 8;
const CALLERS = 50;
const ROUNDS = 3;
const SOAK_HOURS = 24;
const CALLS_PER_HOUR = 1_000;
const ZOHO_LATENCY_MS = 20;
const USER = 'alice@zylker.com';
const SUITE = 'fleet';

function recordRaces(ctx: BenchContext, store: string, mode: FleetMode, races: RaceResult[]): void {
  const refreshes = races.map((r) => r.refreshes);
  const distinct = races.map((r) => Object.keys(r.tokens).length);
  const served = races.reduce((sum, r) => sum + r.callersServed, 0);
  const failures = races.reduce((sum, r) => sum + r.failures.length, 0);
  const verdict =
    mode === 'coordinated'
      ? refreshes.every((n) => n === 1) && failures === 0
        ? 'target met'
        : 'TARGET MISSED'
      : 'no lock: for comparison';
  ctx.record({
    suite: SUITE,
    subject: store,
    operation: `${PROCESSES} x ${CALLERS} callers reach an expired token (${mode})`,
    medianUs: median(races.map((r) => r.elapsedMs)) * 1000,
    samples: races.length,
    note: `refreshes per expiry: ${refreshes.join(', ')}; distinct tokens served: ${distinct.join(', ')}; callers served ${served}/${races.length * PROCESSES * CALLERS}, failed ${failures}; ${verdict}`,
  });
  console.log(`${store} ${mode}: refreshes per expiry ${refreshes.join(', ')}`);
}

async function runStore(ctx: BenchContext, emulator: Emulator, fleet: Fleet, entry: FleetStore): Promise<void> {
  const store = await openStore(entry.url);
  try {
    const parent = new TokenManager({
      store,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      now: () => emulator.clock.now(),
      resolveUserName: false,
    });
    await parent.authorize({ grantToken: emulator.issueGrantToken({ userEmail: USER }), userName: USER });
    await fleet.use(entry.url);
    // Each process serves the valid token once, so it is cached everywhere before it expires.
    await fleet.getAll('coordinated', 1);
    await fleet.getAll('uncoordinated', 1);

    const coordinated: RaceResult[] = [];
    for (let round = 0; round < ROUNDS; round++) coordinated.push(await fleet.raceForExpiredToken('coordinated', CALLERS));
    recordRaces(ctx, entry.name, 'coordinated', coordinated);

    const soak = await fleet.soak(SOAK_HOURS, CALLS_PER_HOUR);
    const lifetimes = Math.ceil((SOAK_HOURS * 3_600_000) / emulator.limits.accessTtlMs) + 1;
    const soakOk = soak.failed === 0 && soak.throttleErrors === 0 && soak.throttledAtZoho === 0 && soak.refreshes <= lifetimes;
    ctx.record({
      suite: SUITE,
      subject: entry.name,
      operation: `soak: ${SOAK_HOURS} simulated h x ${CALLS_PER_HOUR.toLocaleString('en-US')} API calls/h, ${PROCESSES} processes`,
      medianUs: median(soak.hourMs) * 1000,
      samples: soak.hourMs.length,
      note:
        `calls ${soak.calls}, failed ${soak.failed}, throttle errors ${soak.throttleErrors} (Zoho throttled ${soak.throttledAtZoho}), ` +
        `401s ${soak.apiRejected}, refreshes ${soak.refreshes} (limit ${lifetimes}); ${soakOk ? 'target met' : 'TARGET MISSED'}` +
        (soak.failures.length ? `; first failure: ${soak.failures[0]}` : ''),
    });
    console.log(
      `${entry.name} soak: calls ${soak.calls}, failed ${soak.failed}, throttled ${soak.throttleErrors}/${soak.throttledAtZoho}, refreshes ${soak.refreshes}`,
    );

    const uncoordinated: RaceResult[] = [];
    for (let round = 0; round < ROUNDS; round++) uncoordinated.push(await fleet.raceForExpiredToken('uncoordinated', CALLERS));
    recordRaces(ctx, entry.name, 'uncoordinated', uncoordinated);
  } finally {
    await fleet.use(null).catch(() => undefined);
    await store.deleteTokens().catch(() => undefined);
    await store.close();
    await entry.cleanup();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-bench-fleet-'));
  // One emulator and one fleet serve every store in turn; each store gets its own grant.
  const emulator = await startEmulator({ latencyMs: ZOHO_LATENCY_MS });
  let fleet: Fleet | undefined;
  try {
    fleet = await Fleet.start(PROCESSES, emulator, {
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      userName: USER,
      lockTtlMs: 5_000,
    });
    for (const entry of await fleetStores(dir)) {
      if (entry.skip !== null) {
        console.log(`skipped ${entry.name}: ${entry.skip}`);
        ctx.record({
          suite: SUITE,
          subject: entry.name,
          operation: 'fleet',
          medianUs: Number.NaN,
          samples: 0,
          note: `skipped: ${entry.skip}`,
        });
        continue;
      }
      const started = performance.now();
      try {
        await runStore(ctx, emulator, fleet, entry);
      } catch (error) {
        console.log(`${entry.name} failed: ${(error as Error).message}`);
        ctx.record({
          suite: SUITE,
          subject: entry.name,
          operation: 'fleet',
          medianUs: Number.NaN,
          samples: 0,
          note: `failed: ${(error as Error).message}`,
        });
      }
      console.log(`${entry.name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await fleet?.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
