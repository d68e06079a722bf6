/**
 * The device flow against the emulator: approve, deny, slow_down, other_dc and expiry. Waiting
 * advances the emulator's clock instead of real time, so each case takes milliseconds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceFlowError, TokenManager } from '../../src/index.js';
import type { DevicePrompt } from '../../src/manager/device-flow.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { CountingStore } from './helpers.js';

const SCOPES = ['ZohoCRM.modules.ALL'];
const started: Emulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

async function emulator(options: Parameters<typeof startEmulator>[0] = {}): Promise<Emulator> {
  const emu = await startEmulator(options);
  started.push(emu);
  return emu;
}

/** A manager whose waits advance the given clocks, and a record of the waits and prompts. */
function managerFor(us: Emulator, eu?: Emulator) {
  const store = new CountingStore();
  const dataCenterUrls = { US: { accountsUrl: us.url }, ...(eu ? { EU: { accountsUrl: eu.url } } : {}) };
  const manager = new TokenManager({ store, ...DEFAULT_CLIENT, dataCenterUrls, now: () => us.clock.now(), resolveUserName: false });
  const waits: number[] = [];
  const prompts: DevicePrompt[] = [];
  let onWait: (n: number) => void = () => {};
  const sleep = async (ms: number): Promise<void> => {
    waits.push(ms);
    us.clock.advance(ms);
    eu?.clock.advance(ms);
    onWait(waits.length);
  };
  return {
    store,
    manager,
    waits,
    prompts,
    sleep,
    setOnWait: (fn: (n: number) => void) => {
      onWait = fn;
    },
  };
}

describe('authorizeWithDevice', () => {
  it('shows the user code, polls at the interval until approved, and saves a refreshable token', async () => {
    const us = await emulator();
    const t = managerFor(us);
    t.setOnWait((n) => {
      if (n === 3) us.device.approve(t.prompts[0]?.userCode ?? '', { userName: 'bob@zylker.com' });
    });
    const saved = await t.manager.authorizeWithDevice({
      scopes: SCOPES,
      onPrompt: (p) => void t.prompts.push(p),
      sleep: t.sleep,
      userName: 'bob@zylker.com',
    });
    expect(t.prompts).toHaveLength(1);
    expect(t.prompts[0]?.verificationUrl).toBe(`${us.url}/oauth/v3/device`);
    expect(t.prompts[0]?.userCode).toMatch(/^[0-9A-F]{8}$/);
    expect(t.waits).toEqual([5000, 5000, 5000]);
    expect(saved.refreshToken).toMatch(/^1000\./);
    expect(saved.apiDomain).toBe(us.url);
    expect(saved.userName).toBe('bob@zylker.com');
    expect((await t.store.getTokens()).map((x) => x.id)).toEqual([saved.id]);
    // The token works: a refresh at the emulator succeeds.
    us.clock.advance(3_700_000);
    expect(await t.manager.getAccessToken({ id: saved.id })).toMatch(/^1000\./);
  });

  it('stops with DeviceFlowError DENIED when the user denies, and stores nothing', async () => {
    const us = await emulator();
    const t = managerFor(us);
    t.setOnWait((n) => {
      if (n === 2) us.device.deny(t.prompts[0]?.userCode ?? '');
    });
    const error = await t.manager
      .authorizeWithDevice({ scopes: SCOPES, onPrompt: (p) => void t.prompts.push(p), sleep: t.sleep })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceFlowError);
    expect((error as DeviceFlowError).reason).toBe('DENIED');
    expect(await t.store.getTokens()).toEqual([]);
  });

  it('adds 5 s to the interval after each slow_down', async () => {
    const us = await emulator();
    const t = managerFor(us);
    t.setOnWait((n) => {
      const code = t.prompts[0]?.userCode ?? '';
      if (n === 1 || n === 2) us.device.slowDownNext(code);
      if (n === 4) us.device.approve(code);
    });
    const saved = await t.manager.authorizeWithDevice({ scopes: SCOPES, onPrompt: (p) => void t.prompts.push(p), sleep: t.sleep });
    expect(t.waits).toEqual([5000, 10000, 15000, 15000]);
    expect(saved.refreshToken).toBeTruthy();
  });

  it('answers slow_down itself when polled faster than the interval', async () => {
    const us = await emulator();
    const t = managerFor(us);
    // A sleep that lets no emulated time pass: the second poll comes too soon.
    const waits: number[] = [];
    const prompts: DevicePrompt[] = [];
    const sleep = async (ms: number): Promise<void> => {
      waits.push(ms);
      if (waits.length === 3) us.device.approve(prompts[0]?.userCode ?? '');
      if (waits.length >= 3) us.clock.advance(ms);
    };
    await t.manager.authorizeWithDevice({ scopes: SCOPES, onPrompt: (p) => void prompts.push(p), sleep });
    expect(waits).toEqual([5000, 5000, 10000]);
  });

  it('on other_dc polls the DC that user_location names and saves the token with that DC', async () => {
    const us = await emulator();
    const eu = await emulator({ dataCenter: 'EU', startTime: us.clock.now() });
    const t = managerFor(us, eu);
    t.setOnWait((n) => {
      if (n === 1) us.device.approve(t.prompts[0]?.userCode ?? '', { location: 'eu', elsewhere: eu, userName: 'alice@zylker.com' });
    });
    const saved = await t.manager.authorizeWithDevice({ scopes: SCOPES, onPrompt: (p) => void t.prompts.push(p), sleep: t.sleep });
    expect(saved.apiDomain).toBe(eu.url);
    expect(t.manager.locate(saved).dataCenter).toBe('EU');
    expect(eu.counters.grantExchanges).toBe(1);
    expect(us.counters.grantExchanges).toBe(0);
  });

  it('stops with DeviceFlowError EXPIRED after expires_in when nobody approves', async () => {
    const us = await emulator();
    const t = managerFor(us);
    const error = await t.manager
      .authorizeWithDevice({ scopes: SCOPES, onPrompt: (p) => void t.prompts.push(p), sleep: t.sleep })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceFlowError);
    expect((error as DeviceFlowError).reason).toBe('EXPIRED');
    expect(t.waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(300_000);
    expect(await t.store.getTokens()).toEqual([]);
  });
});
