import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FieldCipher, isEncryptedValue, KeyStream, keyIdOf } from '../../src/crypto/cipher.js';
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
        expect(stored).toMatch(/^zt2:k1:[A-Za-z0-9_-]+$/);
        // Another instance with the same key (no shared state) gives the same value and reads it.
        const other = cipherOf();
        expect(other.encrypt(field, plaintext)).toBe(stored);
        expect(other.decrypt(field, stored, '1')).toBe(plaintext);
      }),
      { numRuns: 300 },
    );
  });

  const anyPlaintext = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 1400 }));
  const derive = (format: string, info: string) => Buffer.from(hkdfSync('sha256', keyBytes, `zoho-token-store/${format}`, info, 32));

  it('writes exactly the zt2 form that docs/security.md defines: HMAC-SHA256 tag, then AES-256-CTR from it', () => {
    // The format, written from its definition with createHmac and Node's own aes-256-ctr.
    const [encKey, macKey] = [derive('zt2', 'enc'), derive('zt2', 'mac')];
    const reference = (field: string, plaintext: string) => {
      const tag = createHmac('sha256', macKey).update(`${field}\u0000k1\u0000${plaintext}`, 'utf8').digest().subarray(0, 16);
      const ctr = createCipheriv('aes-256-ctr', encKey, tag);
      return `zt2:k1:${Buffer.concat([tag, ctr.update(plaintext, 'utf8'), ctr.final()]).toString('base64url')}`;
    };
    const cipher = cipherOf();
    fc.assert(
      fc.property(anyPlaintext, fc.constantFrom(...SECRET_FIELDS), (plaintext, field) => {
        fc.pre(!plaintext.includes('\u0000'));
        expect(cipher.encrypt(field, plaintext)).toBe(reference(field, plaintext));
      }),
      { numRuns: 300 },
    );
    expect(cipher.encrypt('refreshToken', ZOHO_REFRESH)).toBe(reference('refreshToken', ZOHO_REFRESH));
  });

  it("zt2's key stream is Node's aes-256-ctr, including a counter that carries across 32, 64 and 96 bits", () => {
    const encKey = randomBytes(32);
    const stream = new KeyStream(encKey);
    const starts = [
      Buffer.alloc(16, 0),
      Buffer.from('000000000000000000000000fffffffe', 'hex'),
      Buffer.from('00000000000000000000ffffffffffff', 'hex'),
      Buffer.from('0000000000000000fffffffffffffffd', 'hex'),
      Buffer.alloc(16, 0xff),
      randomBytes(16),
    ];
    for (const first of starts) {
      for (const length of [0, 1, 15, 16, 17, 70, 160]) {
        const source = randomBytes(length + 3);
        const out = Buffer.alloc(length + 5);
        stream.xor(first, source, 3, length, out, 5);
        const ctr = createCipheriv('aes-256-ctr', encKey, first);
        const expected = Buffer.concat([ctr.update(source.subarray(3)), ctr.final()]);
        expect(out.subarray(5).toString('hex')).toBe(expected.toString('hex'));
      }
    }
  });

  it('reads the zt1 form that docs/security.md defines, and writes it with writeFormat zt1, so rows stored before still match a lookup', () => {
    // The format, written from its definition with createHmac: the cipher's own HMAC (two
    // one-shot hashes) must give the same bytes for every input, multi-byte text included.
    const [encKey, macKey] = [derive('zt1', 'enc'), derive('zt1', 'mac')];
    const reference = (field: string, plaintext: string) => {
      const iv = createHmac('sha256', macKey).update(`${field}\u0000${plaintext}`, 'utf8').digest().subarray(0, 12);
      const gcm = createCipheriv('aes-256-gcm', encKey, iv).setAAD(Buffer.from(`${field}:k1`));
      const body = Buffer.concat([gcm.update(plaintext, 'utf8'), gcm.final()]);
      return `zt1:k1:${Buffer.concat([iv, body, gcm.getAuthTag()]).toString('base64url')}`;
    };
    const zt1Writer = new FieldCipher([{ id: 'k1', key: keyBytes }], { writeFormat: 'zt1' });
    const reader = cipherOf();
    fc.assert(
      fc.property(anyPlaintext, fc.constantFrom(...SECRET_FIELDS), (plaintext, field) => {
        fc.pre(!plaintext.includes('\u0000'));
        const stored = reference(field, plaintext);
        expect(zt1Writer.encrypt(field, plaintext)).toBe(stored);
        expect(reader.decrypt(field, stored, '1')).toBe(plaintext);
        // A lookup of a zt1 row computes this form (the cipher's second lookup form).
        expect(reader.encrypt(field, plaintext, 'k1', 'zt1')).toBe(stored);
      }),
      { numRuns: 300 },
    );
    expect(reader.lookupForms).toEqual([
      { keyId: 'k1', format: 'zt2' },
      { keyId: 'k1', format: 'zt1' },
    ]);
    expect(reader.isCurrent(reference('refreshToken', ZOHO_REFRESH))).toBe(false);
    expect(zt1Writer.isCurrent(reference('refreshToken', ZOHO_REFRESH))).toBe(true);
    expect(() => new FieldCipher([key('k1')], { writeFormat: 'zt9' as 'zt1' })).toThrow(
      /Unknown encryption format "zt9": expected zt2 or zt1/,
    );
  });

  it('keeps a 70-character Zoho token well under 255 characters, even with a 32-character key id', () => {
    expect(ZOHO_REFRESH).toHaveLength(70);
    const stored = new FieldCipher([key('x'.repeat(32))]).encrypt('refreshToken', ZOHO_REFRESH);
    expect(stored.length).toBeLessThan(200);
    expect(stored).toMatch(/^zt2:x{32}:[A-Za-z0-9_-]+$/);
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

  it.each(['zt2', 'zt1'] as const)(
    '%s: a flipped bit anywhere, a wrong key, an unknown key or a malformed value is a CRYPTO error naming field, id and key, never the value',
    (format) => {
      const writer = new FieldCipher([{ id: 'k1', key: keyBytes }], { writeFormat: format });
      const stored = writer.encrypt('refreshToken', ZOHO_REFRESH);
      const prefix = `${format}:k1:`;
      expect(stored.startsWith(prefix)).toBe(true);
      const payload = Buffer.from(stored.slice(prefix.length), 'base64url');
      // Every bit of the payload (IV or tag, body) is covered by the check.
      const flips = Array.from({ length: payload.length * 8 }, (_, bit) => {
        const bytes = Buffer.from(payload);
        bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        return `${prefix}${bytes.toString('base64url')}`;
      });
      const unauthentic = /refreshToken of token id 5: authentication failed with key "k1"/;
      const cases: [FieldCipher, string, RegExp][] = [
        ...flips.map((value): [FieldCipher, string, RegExp] => [cipherOf(), value, unauthentic]),
        [cipherOf(), `${prefix}${payload.subarray(0, payload.length - 1).toString('base64url')}`, unauthentic],
        [new FieldCipher([key('k1')]), stored, unauthentic],
        [
          new FieldCipher([key('k2')]),
          stored,
          /refreshToken of token id 5: it was encrypted with key "k1", which is not configured \(configured: k2\)/,
        ],
        [cipherOf(), `${prefix}short`, /refreshToken of token id 5: the stored value under key "k1" is malformed/],
        [cipherOf(), `${prefix}!!not-base64!!`, /refreshToken of token id 5: the stored value under key "k1" is malformed/],
        [cipherOf(), `${format}:nokeyid`, /not a well-formed encrypted value/],
      ];
      for (const [reader, value, message] of cases) {
        let caught: unknown;
        try {
          reader.decrypt('refreshToken', value, '5');
        } catch (error) {
          caught = error;
        }
        expect(caught, value).toBeInstanceOf(TokenStoreError);
        const error = caught as TokenStoreError;
        expect(error.reason).toBe('CRYPTO');
        expect(error.field).toBe('refreshToken');
        expect(error.message).toMatch(message);
        expect(error.message).not.toContain(ZOHO_REFRESH);
        expect(error.message).not.toContain(value.slice(7, 30));
        expect(error.cause).toBeUndefined();
      }
      // The same value read as another field, or relabelled with another key id of the same key
      // material, fails too: the field and the key id are bound into the check.
      expect(() => cipherOf().decrypt('accessToken', stored, '5')).toThrow(
        /Cannot decrypt accessToken of token id 5: authentication failed/,
      );
      const twin = new FieldCipher([
        { id: 'k1', key: keyBytes },
        { id: 'k2', key: keyBytes },
      ]);
      expect(() => twin.decrypt('refreshToken', stored.replace(prefix, `${format}:k2:`), '5')).toThrow(
        /authentication failed with key "k2"/,
      );
    },
  );

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
