import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { TokenManager } from '../../src/manager/token-manager.js';
import { openStore } from '../../src/stores/url.js';
import { DEFAULT_CLIENT, startEmulator } from '../../src/zoho/emulator/index.js';
import { Fleet } from './helpers/fleet-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-cc-fleet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a fleet of 4 processes re-gets an expired client-credentials token once', async () => {
  const emulator = await startEmulator({ latencyMs: 100 });
  const storeUrl = `sqlite:${join(dir, 'tokens.db')}`;
  const store = await openStore(storeUrl);
  const seed = new TokenManager({
    store,
    clientId: DEFAULT_CLIENT.clientId,
    clientSecret: DEFAULT_CLIENT.clientSecret,
    accountsUrl: emulator.url,
    now: () => emulator.clock.now(),
  });
  const token = await seed.authorize({ clientCredentials: { soid: 'ZohoCRM.10234567', scopes: ['ZohoCRM.modules.ALL'] } });
  await store.close();
  const fleet = await Fleet.start(4, emulator, {
    clientId: DEFAULT_CLIENT.clientId,
    clientSecret: DEFAULT_CLIENT.clientSecret,
    userName: token.userName ?? '',
    lockTtlMs: 30_000,
  });
  try {
    await fleet.use(storeUrl);
    emulator.clock.advance(3_600_001);
    const result = await fleet.getAll('coordinated', 5);
    expect(result.failures).toEqual([]);
    expect(Object.keys(result.tokens)).toHaveLength(1);
    expect(emulator.counters.clientCredentialsGrants).toBe(2);
  } finally {
    await fleet.close();
    await emulator.close();
  }
}, 60_000);
