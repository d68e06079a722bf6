import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FieldCipher, isEncryptedValue, keyIdOf } from '../../src/crypto/cipher.js';
import { TokenStoreError } from '../../src/errors.js';
import { SECRET_FIELDS } from '../../src/token.js';

const key = (id: string) => ({ id, key: randomBytes(32) });
const ZOHO_REFRESH = `1000.${'0123456789abcdef'.repeat(2)}.${'fedcba9876543210'.repeat(2)}`;

describe('FieldCipher', () => {
  const keyBytes = randomBytes(32);
  const cipherOf = () => new FieldCipher([{ id: 'k1', key: keyBytes }]);

  it('any string of 0 to 300 characters round-trips, and the same plaintext encrypts the same', () => {
    // Graphemes, astral code points, ASCII control characters; NUL excluded (stores refuse it).
    const anyText = fc
      .oneof(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ unit: 'binary-ascii', maxLength: 300 }),
        fc.string({ unit: 'binary', minLength: 250, maxLength: 300 }),
      )
      .filter((s) => !s.includes('\u0000'));
    const cipher = cipherOf();
    fc.assert(
      fc.property(anyText, fc.constantFrom(...SECRET_FIELDS), (plaintext, field) => {
        const stored = cipher.encrypt(field, plaintext);
        expect(isEncryptedValue(stored)).toBe(true);
        expect(keyIdOf(stored)).toBe('k1');
        expect(stored).toMatch(/^zt1:k1:[A-Za-z0-9_-]+$/);
        // Another instance with the same key (no shared state) gives the same value and reads it.
        const other = cipherOf();
        expect(other.encrypt(field, plaintext)).toBe(stored);
        expect(other.decrypt(field, stored, '1')).toBe(plaintext);
      }),
      { numRuns: 300 },
    );
  });

  it('writes exactly the zt1 form that docs/security.md defines, so rows stored before still match a lookup', () => {
    // The format, written from its definition with createHmac: the cipher's own HMAC (two
    // one-shot hashes) must give the same bytes for every input, multi-byte text included.
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', keyBytes, 'zoho-token-store/zt1', info, 32));
    const [encKey, macKey] = [derive('enc'), derive('mac')];
    const reference = (field: string, plaintext: string) => {
      const iv = createHmac('sha256', macKey).update(`${field}\u0000${plaintext}`, 'utf8').digest().subarray(0, 12);
      const gcm = createCipheriv('aes-256-gcm', encKey, iv).setAAD(Buffer.from(`${field}:k1`));
      const body = Buffer.concat([gcm.update(plaintext, 'utf8'), gcm.final()]);
      return `zt1:k1:${Buffer.concat([iv, body, gcm.getAuthTag()]).toString('base64url')}`;
    };
    const cipher = cipherOf();
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 1400 })),
        fc.constantFrom(...SECRET_FIELDS),
        (plaintext, field) => {
          fc.pre(!plaintext.includes('\u0000'));
          expect(cipher.encrypt(field, plaintext)).toBe(reference(field, plaintext));
        },
      ),
      { numRuns: 300 },
    );
    expect(cipher.encrypt('refreshToken', ZOHO_REFRESH)).toBe(reference('refreshToken', ZOHO_REFRESH));
  });

  it('keeps a 70-character Zoho token well under 255 characters, even with a 32-character key id', () => {
    expect(ZOHO_REFRESH).toHaveLength(70);
    const stored = new FieldCipher([key('x'.repeat(32))]).encrypt('refreshToken', ZOHO_REFRESH);
    expect(stored.length).toBeLessThan(200);
    expect(stored).toMatch(/^zt1:x{32}:[A-Za-z0-9_-]+$/);
    expect(stored).not.toContain(ZOHO_REFRESH);
  });

  it('binds a value to its field and its key: different fields and keys give different values', () => {
    const one = cipherOf();
    const forms = SECRET_FIELDS.map((f) => one.encrypt(f, ZOHO_REFRESH));
    expect(new Set(forms).size).toBe(4);
    const two = new FieldCipher([{ id: 'k1', key: keyBytes }, key('k2')]);
    // Under k1 it is the same value as in `one` (same key, same field); the newest key, k2, differs.
    expect(two.encrypt('refreshToken', ZOHO_REFRESH, 'k1')).toBe(forms[1]);
    expect(two.encrypt('refreshToken', ZOHO_REFRESH)).toBe(two.encrypt('refreshToken', ZOHO_REFRESH, 'k2'));
    expect(two.encrypt('refreshToken', ZOHO_REFRESH, 'k2')).not.toBe(forms[1]);
    // A value moved to another column does not decrypt there.
    expect(() => one.decrypt('accessToken', forms[1] as string, '9')).toThrow(/Cannot decrypt accessToken of token id 9/);
  });

  it('a flipped byte, a wrong key or a missing key id is a CRYPTO error naming field, id and key, never the value', () => {
    const stored = cipherOf().encrypt('refreshToken', ZOHO_REFRESH);
    const payload = Buffer.from(stored.slice('zt1:k1:'.length), 'base64url');
    payload[20] = (payload[20] ?? 0) ^ 1;
    const tampered = `zt1:k1:${payload.toString('base64url')}`;
    const cases: [FieldCipher, string, RegExp][] = [
      [cipherOf(), tampered, /refreshToken of token id 5: authentication failed with key "k1"/],
      [new FieldCipher([key('k1')]), stored, /refreshToken of token id 5: authentication failed with key "k1"/],
      [
        new FieldCipher([key('k2')]),
        stored,
        /refreshToken of token id 5: it was encrypted with key "k1", which is not configured \(configured: k2\)/,
      ],
      [cipherOf(), 'zt1:k1:short', /refreshToken of token id 5: the stored value under key "k1" is malformed/],
      [cipherOf(), 'zt1:nokeyid', /not a well-formed encrypted value/],
    ];
    for (const [reader, value, message] of cases) {
      let caught: unknown;
      try {
        reader.decrypt('refreshToken', value, '5');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(TokenStoreError);
      const error = caught as TokenStoreError;
      expect(error.reason).toBe('CRYPTO');
      expect(error.field).toBe('refreshToken');
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(ZOHO_REFRESH);
      expect(error.message).not.toContain(value.slice(7, 30));
      expect(error.cause).toBeUndefined();
    }
  });

  it('with a cache, a remembered value is still bound to its field, and results stay right past many generations', () => {
    const cipher = new FieldCipher([{ id: 'k1', key: keyBytes }], { cacheEntries: 8 });
    const uncached = cipherOf();
    const stored = cipher.encrypt('accessToken', ZOHO_REFRESH);
    expect(cipher.decrypt('accessToken', stored, '7')).toBe(ZOHO_REFRESH);
    // Remembered for accessToken only: served as a refresh token it must fail its check.
    expect(() => cipher.decrypt('refreshToken', stored, '7')).toThrow(/Cannot decrypt refreshToken of token id 7: authentication failed/);
    for (let i = 0; i < 200; i++) {
      const value = `1000.${i}.${'ab'.repeat(16)}`;
      const field = SECRET_FIELDS[i % SECRET_FIELDS.length] ?? 'accessToken';
      const form = cipher.encrypt(field, value);
      expect(form).toBe(uncached.encrypt(field, value));
      expect(cipher.decrypt(field, form, String(i))).toBe(value);
      expect(cipher.decrypt(field, uncached.encrypt(field, `${value}.x`), String(i))).toBe(`${value}.x`);
    }
  });

  it('refuses a lone UTF-16 surrogate instead of storing it damaged', () => {
    expect(() => cipherOf().encrypt('accessToken', 'abc\uD800def')).toThrow(/accessToken contains an unpaired UTF-16 surrogate/);
  });

  it('never shows key material when inspected or serialised', async () => {
    const { inspect } = await import('node:util');
    const k = randomBytes(32);
    const c = new FieldCipher([{ id: 'k1', key: k }]);
    const shown = `${inspect(c, { depth: 5, showHidden: true })}${JSON.stringify(c)}`;
    expect(shown).not.toContain(k.toString('hex'));
    expect(shown).not.toContain(k.toString('base64'));
  });
});
