import { afterEach, describe, expect, it } from 'vitest';
import { GrantSpentError, NoRefreshTokenError } from '../../src/errors.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import { DEFAULT_CLIENT } from '../../src/zoho/emulator/index.js';
import { setup } from './helpers.js';

describe('classic failures get explanatory errors', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  it('an exchange with no refresh token says to log in with access_type=offline&prompt=consent, and stores nothing', async () => {
    const { emulator, manager, store } = await setup();
    close = () => emulator.close();
    const code = emulator.issueGrantToken({ accessType: 'online' });
    const error = await manager.authorize({ grantToken: code }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoRefreshTokenError);
    const e = error as NoRefreshTokenError;
    expect(e.code).toBe('NO_REFRESH_TOKEN');
    expect(e.message).toContain('access_type=offline&prompt=consent');
    expect(e.loginUrl).toContain(`${emulator.url}/oauth/v2/auth?`);
    expect(new URL(e.loginUrl).searchParams.get('access_type')).toBe('offline');
    expect(new URL(e.loginUrl).searchParams.get('prompt')).toBe('consent');
    expect(e.message).not.toContain(code);
    expect(await store.getTokens()).toHaveLength(0);
  });

  it('invalid_code names expiry and reuse, without the code', async () => {
    const { emulator, manager } = await setup();
    close = () => emulator.close();
    const code = emulator.issueGrantToken();
    emulator.clock.advance(4 * 60_000);
    const error = (await manager.authorize({ grantToken: code }).catch((e: unknown) => e)) as GrantSpentError;
    expect(error).toBeInstanceOf(GrantSpentError);
    expect(error.zohoError).toBe('invalid_code');
    expect(error.message).toMatch(/3 minutes/);
    expect(error.message).toMatch(/already used/);
    expect(error.message).not.toContain(code);
    expect(error.existingTokenId).toBeUndefined();
  });

  it('invalid_code for a grant already stored in a token names that token', async () => {
    const { emulator, manager, store } = await setup();
    close = () => emulator.close();
    const code = emulator.issueGrantToken();
    // Another tool exchanged it and kept only the grant token (as the SDKs' stores do before a refresh).
    const planted = await store.saveToken({
      userName: 'alice@zylker.com',
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: 'another-secret',
      grantToken: code,
    });
    await fetch(`${emulator.url}/oauth/v2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: DEFAULT_CLIENT.clientId,
        client_secret: DEFAULT_CLIENT.clientSecret,
        code,
      }),
    });
    const error = (await manager.authorize({ grantToken: code }).catch((e: unknown) => e)) as GrantSpentError;
    expect(error).toBeInstanceOf(GrantSpentError);
    expect(error.existingTokenId).toBe(planted.id);
    expect(error.message).toContain(`stored token id ${planted.id}`);
  });
});

describe('a refused refresh says where it asked', () => {
  it('invalid_client names the accounts server asked and the token DC', async () => {
    const { emulator, manager, store } = await setup();
    try {
      const code = emulator.issueGrantToken();
      const token = await manager.authorize({ grantToken: code });
      await store.saveToken({ ...token, clientSecret: 'wrong-secret-0000' });
      emulator.clock.advance(3_600_001);
      const other = new TokenManager({
        store,
        clientId: DEFAULT_CLIENT.clientId,
        clientSecret: 'wrong-secret-0000',
        accountsUrl: emulator.url,
        now: () => emulator.clock.now(),
      });
      const error = (await other.getAccessToken({ id: token.id }).catch((e: unknown) => e)) as Error & { zohoError?: string };
      expect(error.message).toMatch(/Asked accounts server http:\/\/127\.0\.0\.1:\d+/);
      expect(error.message).toContain('data center US');
      expect(error.message).not.toContain('wrong-secret-0000');
    } finally {
      await emulator.close();
    }
  });
});
