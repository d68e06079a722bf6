import { afterEach, describe, expect, it } from 'vitest';
import { isClientCredentialsToken } from '../../src/zoho/client-credentials-grant.js';
import { setup } from './helpers.js';

const HOUR = 3_600_000;
const GRANT = { soid: 'ZohoCRM.10234567', scopes: ['ZohoCRM.modules.ALL', 'ZohoCRM.users.READ'] };

describe('self-client client_credentials tokens', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  it('gets an access token with no refresh token and stores the grant in grant_token', async () => {
    const { emulator, manager, store } = await setup();
    close = () => emulator.close();
    const token = await manager.authorize({ clientCredentials: GRANT });
    expect(token.accessToken).toMatch(/^1000\./);
    expect(token.refreshToken ?? '').toBe('');
    expect(token.grantToken).toBe('client_credentials|ZohoCRM.10234567|ZohoCRM.modules.ALL ZohoCRM.users.READ');
    expect(isClientCredentialsToken(token)).toBe(true);
    expect(emulator.counters.clientCredentialsGrants).toBe(1);
    const stored = await store.getTokens();
    expect(stored).toHaveLength(1);
    // Asking again while it is valid does not call Zoho again.
    const again = await manager.authorize({ clientCredentials: GRANT });
    expect(again.id).toBe(token.id);
    expect(emulator.counters.clientCredentialsGrants).toBe(1);
  });

  it('re-gets the access token with the same grant once it expired, once for concurrent callers', async () => {
    const { emulator, manager } = await setup();
    close = () => emulator.close();
    const first = await manager.authorize({ clientCredentials: GRANT });
    emulator.clock.advance(HOUR + 1);
    const tokens = await Promise.all(Array.from({ length: 8 }, () => manager.getAccessToken({ id: first.id })));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(first.accessToken);
    expect(emulator.counters.clientCredentialsGrants).toBe(2);
    expect(emulator.counters.refreshes).toBe(0);
  });

  it('answers missing_org_info for a soid the emulator does not accept, and stores nothing', async () => {
    const { emulator, manager, store } = await setup();
    close = () => emulator.close();
    const res = await fetch(`${emulator.url}/oauth/v2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: '1000.EMULATORCLIENT0000000000000000',
        client_secret: 'emulator-secret-0123456789abcdef0123456789',
        scope: 'ZohoCRM.modules.ALL',
      }),
    });
    expect(await res.json()).toEqual({ error: 'missing_org_info' });
    await expect(manager.authorize({ clientCredentials: { soid: 'bad', scopes: ['x'] } })).rejects.toThrow(/soid/);
    expect(await store.getTokens()).toHaveLength(0);
  });
});
