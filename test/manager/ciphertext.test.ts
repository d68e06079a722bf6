// A TokenManager on a store whose tokens are encrypted, opened without the keys (the raw inner
// store): it never sends ciphertext to Zoho as a refresh token, on refresh or revoke.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
});

describe('TokenManager on ciphertext', () => {
  it('refuses to use, refresh or revoke a token whose secrets are encrypted, naming the keys; Zoho gets no call', async () => {
    emulator = await startEmulator();
    const raw = new MemoryStore();
    const keys = [{ id: 'k1', key: randomBytes(32) }];
    const withKeys = new TokenManager({
      store: new EncryptedStore(raw, { keys }),
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      now: () => emulator?.clock.now() ?? Date.now(),
    });
    const saved = await withKeys.authorize({ grantToken: emulator.issueGrantToken({ userEmail: 'alice@zylker.com' }) });
    expect((await raw.findTokenById(saved.id))?.refreshToken).toMatch(/^zt2:k1:/);

    // A valid token: its ciphertext access token is not sent to the CRM API either.
    const fresh = new TokenManager({
      store: raw,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      now: () => emulator?.clock.now() ?? Date.now(),
    });
    const apiCalls = emulator.counters.apiCalls;
    await expect(fresh.fetch({ id: saved.id }, '/crm/v8/Leads')).rejects.toThrow(/Cannot use token id 1: .*encrypted/);
    expect(emulator.counters.apiCalls).toBe(apiCalls);

    emulator.clock.advance(2 * 3_600_000);
    const withoutKeys = new TokenManager({
      store: raw,
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      now: () => emulator?.clock.now() ?? Date.now(),
    });
    const before = emulator.counters;
    await expect(withoutKeys.getAccessToken({ id: saved.id })).rejects.toMatchObject({
      reason: 'CRYPTO',
      message: expect.stringMatching(
        /Cannot use token id 1: its clientSecret, refreshToken, accessToken, grantToken are encrypted .*ZTOKEN_KEYS/,
      ),
    });
    await expect(withoutKeys.revoke({ id: saved.id })).rejects.toThrow(/Cannot revoke token id 1: .*encrypted/);
    expect(emulator.counters.tokenRequests).toBe(before.tokenRequests);
    expect(emulator.counters.revocations).toBe(before.revocations);
    expect(await raw.findTokenById(saved.id)).not.toBeNull();
  });
});
