import { describe, expect, it } from 'vitest';
import {
  encodeClientCredentialsGrant,
  isClientCredentialsToken,
  parseClientCredentialsGrant,
} from '../../src/zoho/client-credentials-grant.js';

describe('client-credentials grant in the grant_token column', () => {
  it('round-trips soid and scopes in one CSV-safe string', () => {
    const text = encodeClientCredentialsGrant({ soid: 'ZohoCRM.10234567', scopes: ['ZohoCRM.modules.ALL', ' ZohoCRM.users.READ '] });
    expect(text).toBe('client_credentials|ZohoCRM.10234567|ZohoCRM.modules.ALL ZohoCRM.users.READ');
    expect(text).not.toMatch(/[,\n\r"]/);
    expect(parseClientCredentialsGrant(text)).toEqual({ soid: 'ZohoCRM.10234567', scopes: ['ZohoCRM.modules.ALL', 'ZohoCRM.users.READ'] });
  });

  it('refuses a soid or scope that is not Zoho-shaped, naming it', () => {
    expect(() => encodeClientCredentialsGrant({ soid: 'evil,org', scopes: ['a'] })).toThrow(/soid "evil,org"/);
    expect(() => encodeClientCredentialsGrant({ soid: 'ZohoCRM.1', scopes: [] })).toThrow(/at least one scope/);
    expect(() => encodeClientCredentialsGrant({ soid: 'ZohoCRM.1', scopes: ['a|b'] })).toThrow(/scope "a\|b"/);
  });

  it('treats an ordinary or tampered grant token as not a client-credentials grant', () => {
    expect(parseClientCredentialsGrant('1000.abc.def')).toBeNull();
    expect(parseClientCredentialsGrant(undefined)).toBeNull();
    expect(parseClientCredentialsGrant('client_credentials|ZohoCRM.1|ok|extra')).toBeNull();
    expect(parseClientCredentialsGrant('client_credentials|bad soid|ZohoCRM.modules.ALL')).toBeNull();
    const grantToken = 'client_credentials|ZohoCRM.1|ZohoCRM.modules.ALL';
    expect(isClientCredentialsToken({ grantToken })).toBe(true);
    expect(isClientCredentialsToken({ grantToken, refreshToken: '1000.r' })).toBe(false);
  });
});
