import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import {
  compactToken,
  compareIds,
  isExpired,
  lookupRuleOf,
  matchRule,
  nextId,
  nextIdAfter,
  normalizeToken,
  redact,
  redactToken,
  type StoredToken,
  scrubSecrets,
  TOKEN_FIELDS,
  tokenToStore,
} from '../../src/token.js';

describe('redact', () => {
  it('shows a short prefix and the length, never the whole secret', () => {
    const secret = '1000.3f1c0a7e9b2d4c6e8a0b1c2d3e4f5a6b.0a1b2c3d4e5f60718293a4b5c6d7e8f9';
    expect(redact(secret)).toBe('1000.3f1…(70 chars)');
    expect(redact(undefined)).toBe('(none)');
    expect(redact('')).toBe('(none)');
  });

  it('never reveals a short secret whole', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), (secret) => {
        const shown = redact(secret).replace(/…\(\d+ chars\)$/, '');
        expect(shown.length).toBeLessThan(secret.length);
        expect(shown.length).toBeLessThanOrEqual(8);
      }),
    );
  });

  it('redacts every secret field of a token and keeps the others', () => {
    expect(
      redactToken({
        id: '1',
        userName: 'a@b.c',
        clientSecret: 'abcdefghijklmnopqrstuvwxyz',
        refreshToken: '1000.refresh.value.long',
        expiryTime: 5,
      }),
    ).toEqual({ id: '1', userName: 'a@b.c', clientSecret: 'abcdefgh…(26 chars)', refreshToken: '1000.ref…(23 chars)', expiryTime: 5 });
  });

  it('scrubs secrets from free text', () => {
    const secret = '1000.abcdefabcdef.123456';
    expect(scrubSecrets(`Duplicate entry '${secret}' for key`, [secret])).toBe("Duplicate entry '1000.abc…(24 chars)' for key");
  });

  it('scrubs secrets nobody named: Zoho-shaped tokens (whole or cut off) and secret-bearing JSON values', () => {
    const whole = `1000.${'ab12'.repeat(8)}.${'cd34'.repeat(8)}`;
    const cut = `1000.${'ef56'.repeat(4)}`;
    expect(scrubSecrets(`refresh ${whole} failed; partial ${cut}`, [])).toBe(
      'refresh 1000.ab1…(70 chars) failed; partial 1000.ef5…(21 chars)',
    );
    const body = '{"access_token":"opaque-value-42","refresh_token":"","code":"grant-code-7","api_domain":"https://www.zohoapis.com"}';
    expect(scrubSecrets(body, [])).toBe(
      '{"access_token":"opa…(15 chars)","refresh_token":"","code":"gra…(12 chars)","api_domain":"https://www.zohoapis.com"}',
    );
    // Scrubbing a scrubbed text changes nothing.
    expect(scrubSecrets(scrubSecrets(body, []), [])).toBe(scrubSecrets(body, []));
  });
});

describe('ids', () => {
  it('counts numerically past 9 (unlike max() on a varchar)', () => {
    expect(nextId(['1', '2', '9'])).toBe('10');
    expect(nextId(['10', '9', 'abc', '099'])).toBe('11');
    expect(nextId([])).toBe('1');
    expect(nextIdAfter('41')).toBe('42');
  });

  it('refuses to grow past 10 digits', () => {
    expect(() => nextIdAfter('9999999999')).toThrow(TokenStoreError);
  });

  it('orders numeric ids numerically, then others', () => {
    expect(['10', 'b', '9', '1', 'a', '100'].sort(compareIds)).toEqual(['1', '9', '10', '100', 'a', 'b']);
  });
});

describe('matching rules', () => {
  const client = { clientId: 'cid', clientSecret: 'sec' };
  it('applies the first rule that fits, in ZOHO.md order', () => {
    expect(matchRule({ userName: 'u', accessToken: 'a', ...client, grantToken: 'g' })).toEqual({ field: 'userName', value: 'u' });
    expect(matchRule({ accessToken: 'a', grantToken: 'g' })).toEqual({ field: 'accessToken', value: 'a' });
    expect(matchRule({ accessToken: 'a', ...client, grantToken: 'g', refreshToken: 'r' })).toEqual({ field: 'grantToken', value: 'g' });
    expect(matchRule({ accessToken: 'a', ...client, refreshToken: 'r' })).toEqual({ field: 'refreshToken', value: 'r' });
    expect(matchRule({ refreshToken: 'r' })).toBeNull();
    expect(matchRule({ accessToken: 'a', clientId: 'cid' })).toBeNull();
    expect(matchRule({})).toBeNull();
  });

  it('checks the type of every field it reads', () => {
    expect(() => lookupRuleOf({ userName: 5 })).toThrow(/userName/);
    expect(() => lookupRuleOf('x')).toThrow(/expected an object/);
    expect(lookupRuleOf({ userName: '', accessToken: 'a' })).toEqual({ field: 'accessToken', value: 'a' });
  });
});

describe('normalizeToken', () => {
  it('drops unknown fields, empty strings and nulls; parses digit-string expiry', () => {
    expect(normalizeToken({ userName: 'u', clientId: '', accessToken: null, extra: 'x', expiryTime: '1767225600000' })).toEqual({
      userName: 'u',
      expiryTime: 1767225600000,
    });
  });

  it('rejects over-long and NUL-bearing values, naming the field', () => {
    expect(() => normalizeToken({ refreshToken: 'x'.repeat(10_000) })).toThrow(/refreshToken is 10000 characters/);
    expect(() => normalizeToken({ redirectUrl: 'a\u0000b' })).toThrow(/redirectUrl contains a NUL/);
  });
});

describe('isExpired (the one expiry rule)', () => {
  it('is expired at or past expiry minus skew, and when expiry is unknown', () => {
    expect(isExpired({ expiryTime: 10_000 }, 4_000, 5_000)).toBe(false);
    expect(isExpired({ expiryTime: 10_000 }, 5_000, 5_000)).toBe(true);
    expect(isExpired({}, 0)).toBe(true);
  });
});

describe('compactToken and tokenToStore', () => {
  const full = Object.fromEntries(
    TOKEN_FIELDS.map((field) => [field, field === 'expiryTime' ? 5 : `${field}-value`]),
  ) as unknown as StoredToken;

  it('keep every defined field of TOKEN_FIELDS, in its order, and drop undefined ones', () => {
    expect(Object.keys(compactToken(full))).toEqual([...TOKEN_FIELDS]);
    expect(compactToken(full)).toEqual(full);
    for (const field of TOKEN_FIELDS) {
      const kept = compactToken({ ...full, [field]: undefined });
      expect(Object.keys(kept)).toEqual(TOKEN_FIELDS.filter((f) => f !== field));
    }
  });

  it('tokenToStore gives the id it is passed, whatever the token held', () => {
    expect(tokenToStore({ ...full, id: '1' }, '9')).toEqual({ ...full, id: '9' });
    const { id: _, ...withoutId } = full;
    expect(Object.keys(tokenToStore(withoutId, '3'))).toEqual([...TOKEN_FIELDS]);
  });
});
