/**
 * Deterministic authenticated encryption of one secret field. Two formats, both synthetic-IV
 * (SIV) constructions: the IV is a keyed PRF of the field, the key id and the plaintext, so the
 * same plaintext under the same key always gives the same stored value and an exact-match lookup
 * in any store finds it (a keyed blind index inside the value).
 *
 * zt2 (written by default): the generic SIV composition, PRF then counter mode.
 *   tag    = HMAC-SHA256(macKey2, field || 0x00 || keyId || 0x00 || plaintext)[0..16]
 *   body   = AES-256-CTR(encKey2, initial counter block = tag, plaintext)
 *   stored = "zt2:" keyId ":" base64url(tag || body)
 * Decryption recomputes the tag over the decrypted plaintext and compares in constant time, so a
 * changed body, a changed tag, another field's value or another key id's value fails the check.
 * The AES key schedule is made once per key (one long-lived ECB object makes the counter
 * blocks' key stream), where AES-GCM needs a new native cipher object per value: on Node 20
 * that object is most of a GCM encryption's cost.
 *
 * zt1 (read, and written with `writeFormat: 'zt1'`): AES-256-GCM with a synthetic IV.
 *   iv     = HMAC-SHA256(macKey, field || 0x00 || plaintext)[0..12]
 *   stored = "zt1:" keyId ":" base64url(iv || AES-256-GCM(encKey, iv, plaintext, aad = field ":" keyId) || tag)
 *
 * Each format's two keys are derived from each 32-byte key with HKDF-SHA256 under its own salt,
 * so no AES or MAC key is shared between formats. Two different plaintexts share a zt2 tag
 * (128 bits) or a zt1 IV (96 bits) only by a PRF collision. docs/security.md explains what this
 * leaks (equality of values).
 */
import { type Cipher, createCipheriv, createDecipheriv, createSecretKey, hash, hkdfSync, type KeyObject } from 'node:crypto';
import { TokenStoreError } from '../errors.js';
import { type OAuthToken, SECRET_FIELDS, type SecretField } from '../token.js';
import { type EncryptionKey, parseKeys } from './keys.js';

/** The stored formats, by prefix; both are 4 characters, then the key id and a colon. */
export type CipherFormat = 'zt1' | 'zt2';
const PREFIX_LENGTH = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** zt2's tag, which is also its first counter block. */
const SIV_TAG_BYTES = 16;
const AES_BLOCK = 16;
const HKDF_SALT: Record<CipherFormat, string> = { zt1: 'zoho-token-store/zt1', zt2: 'zoho-token-store/zt2' };
const PAYLOAD = /^[A-Za-z0-9_-]+$/;
// Lone UTF-16 halves cannot be encoded as UTF-8: they would come back as U+FFFD.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

interface DerivedKey {
  id: string;
  /** zt1: the AES-256-GCM key, the IV's MAC key, and per field the AAD. */
  encKey: KeyObject;
  macKey: HmacKey;
  aad: Record<SecretField, Buffer>;
  /** zt2: the counter-mode key stream (an ECB object over this key's AES key) and the tag's MAC key. */
  keyStream: KeyStream;
  sivKey: HmacKey;
  /** zt2: what the tag binds besides the plaintext: field || 0x00 || keyId, per field. */
  sivLabel: Record<SecretField, string>;
  prefix: Record<CipherFormat, string>;
  /** First cache slot of this key's encryptions (plaintext -> stored) per format, one per field. */
  slot: Record<CipherFormat, number>;
}

/** One lookup form: the stored value of a plaintext under this key in this format. */
export interface CipherForm {
  keyId: string;
  format: CipherFormat;
}

export interface FieldCipherOptions {
  /**
   * How many recent encryptions and decryptions to remember (default 0: none). Repeated
   * lookups of the same token then skip the cipher; the entries live in process memory only.
   */
  cacheEntries?: number;
  /**
   * The format new values are written in (default 'zt2'). Both are always read. 'zt1' is for a
   * fleet being upgraded: releases before zt2 read a zt2 value as plaintext, so keep writing zt1
   * until every process that shares the store runs a release that reads zt2.
   */
  writeFormat?: CipherFormat;
}

const FORMATS: readonly CipherFormat[] = ['zt2', 'zt1'];

/** The format of a stored value, or undefined for a plaintext (legacy) value. */
function formatOf(value: string): CipherFormat | undefined {
  return value.startsWith('zt2:') ? 'zt2' : value.startsWith('zt1:') ? 'zt1' : undefined;
}

/** Whether a stored value is in an encrypted form (anything else is a plaintext legacy value). */
export function isEncryptedValue(value: string): boolean {
  return formatOf(value) !== undefined;
}

/** The secret fields of a token that hold encrypted values (a store read without its keys). */
export function encryptedFieldsOf(token: OAuthToken): SecretField[] {
  return SECRET_FIELDS.filter((field) => {
    const value = token[field];
    return typeof value === 'string' && isEncryptedValue(value);
  });
}

/** The key id of an encrypted value, or undefined for plaintext or a malformed value. */
export function keyIdOf(value: string): string | undefined {
  if (!isEncryptedValue(value)) return undefined;
  const end = value.indexOf(':', PREFIX_LENGTH);
  return end < 0 ? undefined : value.slice(PREFIX_LENGTH, end);
}

/**
 * The cipher's memory of recent results, in slots (one per direction, field and key, so a value
 * remembered for one field is never served for another). Entries go into the current
 * generation; when it holds half the budget it becomes the previous one and the one before is
 * dropped whole. No per-entry eviction, so a cold lookup (the working set larger than the cache)
 * costs one Map insert instead of bookkeeping and garbage per entry; a hit in the previous
 * generation moves the entry forward, so values in use stay.
 */
class RecentResults {
  #current: Map<string, string>[];
  #previous: Map<string, string>[];
  #size = 0;
  readonly #generation: number;
  constructor(
    readonly slots: number,
    maxEntries: number,
  ) {
    this.#generation = Math.floor(Math.max(0, maxEntries) / 2);
    this.#current = this.#fresh();
    this.#previous = this.#fresh();
  }
  get(slot: number, key: string): string | undefined {
    const value = this.#current[slot]?.get(key);
    if (value !== undefined) return value;
    const old = this.#previous[slot]?.get(key);
    if (old !== undefined) this.set(slot, key, old);
    return old;
  }
  set(slot: number, key: string, value: string): void {
    if (this.#generation === 0) return;
    if (this.#size >= this.#generation) {
      this.#previous = this.#current;
      this.#current = this.#fresh();
      this.#size = 0;
    }
    const map = this.#current[slot];
    if (!map) return;
    // One probe, not has() then set(): a value already there is the same (results are deterministic).
    const before = map.size;
    map.set(key, value);
    if (map.size !== before) this.#size++;
  }
  #fresh(): Map<string, string>[] {
    return Array.from({ length: this.slots }, () => new Map<string, string>());
  }
}

/**
 * HMAC-SHA256 (RFC 2104) as two one-shot hashes over the key's precomputed pads: the same bytes
 * as createHmac, without a native Hmac object per call (a cold encryption made one per field).
 * The digests are taken as 'binary' (latin1) strings, one character per byte: on Node 20 a one-shot hash
 * answers a string in about a fifth of the time it takes to answer a Buffer.
 */
class HmacKey {
  readonly #inner: Buffer;
  /** The outer pad, then room for the inner digest; reused (every use is synchronous). */
  readonly #outer: Buffer;
  constructor(key: Buffer) {
    const BLOCK = 64; // SHA-256's block; a 32-byte key is zero-padded to it
    this.#inner = Buffer.alloc(BLOCK, 0x36);
    this.#outer = Buffer.alloc(BLOCK + 32, 0x5c);
    for (let i = 0; i < key.length; i++) {
      this.#inner[i] = 0x36 ^ (key[i] as number);
      this.#outer[i] = 0x5c ^ (key[i] as number);
    }
  }

  /**
   * HMAC(key, label || 0x00 || text) as a latin1 string of its 32 bytes, and the UTF-8 bytes of
   * `text` (written once, after the inner pad, for the cipher to reuse).
   */
  digest(label: string, text: string): { mac: string; textBytes: Buffer } {
    const textStart = this.#inner.length + label.length + 1;
    const message = this.#message(label, Buffer.byteLength(text, 'utf8'));
    message.write(text, textStart, 'utf8');
    return { mac: this.#finish(message), textBytes: message.subarray(textStart) };
  }

  /** HMAC(key, label || 0x00 || bytes) as a latin1 string of its 32 bytes. */
  digestBytes(label: string, bytes: Uint8Array): string {
    const message = this.#message(label, bytes.length);
    message.set(bytes, this.#inner.length + label.length + 1);
    return this.#finish(message);
  }

  /** The inner pad, the label and its 0x00, then room for exactly `textLength` bytes. */
  #message(label: string, textLength: number): Buffer {
    const inner = this.#inner;
    const message = Buffer.allocUnsafe(inner.length + label.length + 1 + textLength);
    inner.copy(message, 0);
    message[inner.length + message.write(label, inner.length, 'latin1')] = 0;
    return message;
  }

  #finish(message: Buffer): string {
    const outer = this.#outer;
    outer.write(hash('sha256', message, 'binary'), this.#inner.length, 'latin1');
    return hash('sha256', outer, 'binary');
  }
}

/**
 * AES-256 in counter mode (NIST SP 800-38A: the 128-bit block incremented big-endian, the same
 * stream as Node's 'aes-256-ctr') from one long-lived ECB cipher object: its update() encrypts
 * whole blocks and keeps no state between calls (padding off, always a multiple of 16 bytes), so
 * the key schedule and the native object are made once per key instead of once per value.
 */
export class KeyStream {
  readonly #ecb: Cipher;
  constructor(key: Buffer) {
    this.#ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  }
  /**
   * Writes `length` bytes of `source` (from `sourceAt`) XOR the key stream whose first counter
   * block is `first[0..16]` into `out` at `outAt`.
   */
  xor(first: Buffer, source: Uint8Array, sourceAt: number, length: number, out: Uint8Array, outAt: number): void {
    const blocks = Math.ceil(length / AES_BLOCK);
    if (blocks === 0) return;
    const counters = Buffer.allocUnsafe(blocks * AES_BLOCK);
    const words = [first.readUInt32BE(0), first.readUInt32BE(4), first.readUInt32BE(8), first.readUInt32BE(12)];
    for (let b = 0; b < blocks; b++) {
      // first + b, as a 128-bit big-endian number (b < 2^32, so one carry chain from the low word)
      let carry = b;
      for (let w = 3; w >= 0; w--) {
        const sum = (words[w] as number) + carry;
        counters.writeUInt32BE(sum >>> 0, b * AES_BLOCK + 4 * w);
        carry = sum > 0xffffffff ? 1 : 0;
      }
    }
    const stream = this.#ecb.update(counters);
    for (let i = 0; i < length; i++) out[outAt + i] = (source[sourceAt + i] as number) ^ (stream[i] as number);
  }
}

/** Whether the first 16 characters of a latin1 MAC equal `tag`, in time that does not depend on where they differ. */
function sameTag(mac: string, tag: Uint8Array): boolean {
  let difference = 0;
  for (let i = 0; i < SIV_TAG_BYTES; i++) difference |= mac.charCodeAt(i) ^ (tag[i] as number);
  return difference === 0;
}

/** Cache slots: per field, one for decryptions, then per key and format one for encryptions. */
const FIELD_SLOT = Object.fromEntries(SECRET_FIELDS.map((f, i) => [f, i])) as Record<SecretField, number>;

export class FieldCipher {
  // Private fields: util.inspect and JSON.stringify of a store never show key material.
  readonly #byId = new Map<string, DerivedKey>();
  /** Newest first: the order lookups try. */
  readonly #newestFirst: DerivedKey[];
  /** Recent encryptions (plaintext -> stored) and decryptions (stored -> plaintext). */
  readonly #cache: RecentResults;
  readonly #writeFormat: CipherFormat;
  /**
   * The forms a lookup tries, in order: every key (newest first) in the write format, then every
   * key in the other format. Rows move toward the first (saves, rotateKeys).
   */
  readonly lookupForms: readonly CipherForm[];

  constructor(keys: readonly EncryptionKey[], options: FieldCipherOptions = {}) {
    const parsed = parseKeys(keys, 'the encryption keys');
    const writeFormat = options.writeFormat ?? 'zt2';
    if (!FORMATS.includes(writeFormat)) {
      throw new TokenStoreError('INVALID_ARGUMENT', `Unknown encryption format "${String(writeFormat)}": expected zt2 or zt1`);
    }
    this.#writeFormat = writeFormat;
    for (const [index, { id, key }] of parsed.entries()) {
      const derive = (format: CipherFormat, info: string) => Buffer.from(hkdfSync('sha256', key, HKDF_SALT[format], info, 32));
      const perField = <T>(make: (field: SecretField) => T) =>
        Object.fromEntries(SECRET_FIELDS.map((f) => [f, make(f)])) as Record<SecretField, T>;
      const slot = SECRET_FIELDS.length * (1 + 2 * index);
      this.#byId.set(id, {
        id,
        encKey: createSecretKey(derive('zt1', 'enc')),
        macKey: new HmacKey(derive('zt1', 'mac')),
        aad: perField((f) => Buffer.from(`${f}:${id}`)),
        keyStream: new KeyStream(derive('zt2', 'enc')),
        sivKey: new HmacKey(derive('zt2', 'mac')),
        sivLabel: perField((f) => `${f}\u0000${id}`),
        prefix: { zt1: `zt1:${id}:`, zt2: `zt2:${id}:` },
        slot: { zt2: slot, zt1: slot + SECRET_FIELDS.length },
      });
    }
    this.#newestFirst = [...this.#byId.values()].reverse();
    const otherFormat: CipherFormat = writeFormat === 'zt2' ? 'zt1' : 'zt2';
    this.lookupForms = [writeFormat, otherFormat].flatMap((format) => this.#newestFirst.map(({ id }) => ({ keyId: id, format })));
    this.#cache = new RecentResults(SECRET_FIELDS.length * (1 + 2 * parsed.length), options.cacheEntries ?? 0);
  }

  /** Configured key ids, oldest first (the last encrypts new writes). */
  get keyIds(): string[] {
    return [...this.#byId.keys()];
  }

  /** Whether a stored value is already encrypted under the newest key, in the write format. */
  isCurrent(stored: string): boolean {
    return stored.startsWith(this.#newest().prefix[this.#writeFormat]);
  }

  /**
   * The stored form of `plaintext` in `field` under the key `keyId` (default: the newest), in
   * `format` (default: the write format).
   */
  encrypt(field: SecretField, plaintext: string, keyId?: string, format: CipherFormat = this.#writeFormat): string {
    const key = keyId === undefined ? this.#newest() : this.#byId.get(keyId);
    if (!key) throw new TokenStoreError('CRYPTO', `Encryption key "${keyId}" is not configured`, { field });
    const slot = key.slot[format] + FIELD_SLOT[field];
    const cached = this.#cache.get(slot, plaintext);
    if (cached !== undefined) return cached;
    if (LONE_SURROGATE.test(plaintext)) {
      throw new TokenStoreError(
        'INVALID_TOKEN',
        `Invalid token: ${field} contains an unpaired UTF-16 surrogate and cannot be stored as text`,
        {
          field,
        },
      );
    }
    const stored = key.prefix[format] + (format === 'zt2' ? this.#sealZt2(key, field, plaintext) : this.#sealZt1(key, field, plaintext));
    this.#cache.set(slot, plaintext, stored);
    this.#cache.set(FIELD_SLOT[field], stored, plaintext);
    return stored;
  }

  /**
   * The plaintext of an encrypted value. `tokenId` is named in errors, as are the field and the
   * key id; the value never is.
   */
  decrypt(field: SecretField, stored: string, tokenId: string): string {
    const cached = this.#cache.get(FIELD_SLOT[field], stored);
    if (cached !== undefined) return cached;
    const format = formatOf(stored);
    const keyId = keyIdOf(stored);
    const key = keyId === undefined ? undefined : this.#byId.get(keyId);
    if (!format || !key) throw this.#decryptError(field, tokenId, keyId, 'unknown');
    // Characters outside base64url would be skipped by the decoder: refuse them instead.
    const payload = stored.slice(key.prefix[format].length);
    const bytes = PAYLOAD.test(payload) ? Buffer.from(payload, 'base64url') : undefined;
    if (!bytes || bytes.length < (format === 'zt2' ? SIV_TAG_BYTES : IV_BYTES + TAG_BYTES)) {
      throw this.#decryptError(field, tokenId, keyId, 'malformed');
    }
    const opened = format === 'zt2' ? this.#openZt2(key, field, bytes) : this.#openZt1(key, field, bytes);
    if (opened === undefined) throw this.#decryptError(field, tokenId, keyId, 'unauthentic');
    this.#cache.set(FIELD_SLOT[field], stored, opened);
    // Only a holder of the key can make a value that authenticates, and this code always makes
    // the canonical one, so the reverse entry is right: saving back what was read is free.
    this.#cache.set(key.slot[format] + FIELD_SLOT[field], opened, stored);
    return opened;
  }

  /** zt2's payload: tag || plaintext XOR the key stream from the tag, base64url. */
  #sealZt2(key: DerivedKey, field: SecretField, plaintext: string): string {
    const { mac, textBytes } = key.sivKey.digest(key.sivLabel[field], plaintext);
    const out = Buffer.allocUnsafe(SIV_TAG_BYTES + textBytes.length);
    out.write(mac, 0, SIV_TAG_BYTES, 'latin1');
    key.keyStream.xor(out, textBytes, 0, textBytes.length, out, SIV_TAG_BYTES);
    return out.toString('base64url');
  }

  /** The plaintext, or undefined when the tag does not verify. */
  #openZt2(key: DerivedKey, field: SecretField, bytes: Buffer): string | undefined {
    const plain = Buffer.allocUnsafe(bytes.length - SIV_TAG_BYTES);
    key.keyStream.xor(bytes, bytes, SIV_TAG_BYTES, plain.length, plain, 0);
    return sameTag(key.sivKey.digestBytes(key.sivLabel[field], plain), bytes) ? plain.toString('utf8') : undefined;
  }

  /** zt1's payload: iv || AES-256-GCM body || tag, base64url. */
  #sealZt1(key: DerivedKey, field: SecretField, plaintext: string): string {
    const { mac, textBytes } = key.macKey.digest(field, plaintext);
    // iv || body || tag, in one buffer; the IV is the MAC's first 12 bytes.
    const out = Buffer.allocUnsafe(IV_BYTES + textBytes.length + TAG_BYTES);
    out.write(mac, 0, IV_BYTES, 'latin1');
    const cipher = createCipheriv('aes-256-gcm', key.encKey, out.subarray(0, IV_BYTES));
    cipher.setAAD(key.aad[field]);
    const body = cipher.update(textBytes);
    cipher.final();
    body.copy(out, IV_BYTES);
    cipher.getAuthTag().copy(out, IV_BYTES + body.length);
    return out.toString('base64url');
  }

  /** The plaintext, or undefined when the GCM tag does not verify. */
  #openZt1(key: DerivedKey, field: SecretField, bytes: Buffer): string | undefined {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.encKey, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(key.aad[field]);
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const body = decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES));
      decipher.final();
      return body.toString('utf8');
    } catch {
      // The driver's error says only "unable to authenticate data"; no cause is attached.
      return undefined;
    }
  }

  #decryptError(
    field: SecretField,
    tokenId: string,
    keyId: string | undefined,
    problem: 'unknown' | 'malformed' | 'unauthentic',
  ): TokenStoreError {
    const why =
      keyId === undefined
        ? 'the stored value is not a well-formed encrypted value'
        : problem === 'unknown'
          ? `it was encrypted with key "${keyId}", which is not configured (configured: ${this.keyIds.join(', ')})`
          : problem === 'malformed'
            ? `the stored value under key "${keyId}" is malformed`
            : `authentication failed with key "${keyId}" (a wrong key, or the stored value was altered)`;
    return new TokenStoreError('CRYPTO', `Cannot decrypt ${field} of token id ${tokenId}: ${why}`, { field });
  }

  #newest(): DerivedKey {
    const key = this.#newestFirst[0];
    if (!key) throw new TokenStoreError('CRYPTO', 'No encryption key is configured');
    return key;
  }
}
