/**
 * Deterministic authenticated encryption of one secret field (SIV-style AES-256-GCM):
 *
 *   iv     = HMAC-SHA256(macKey, field || 0x00 || plaintext)[0..12]
 *   stored = "zt1:" keyId ":" base64url(iv || AES-256-GCM(encKey, iv, plaintext, aad = field ":" keyId) || tag)
 *
 * macKey and encKey are derived from each 32-byte key with HKDF-SHA256. The same plaintext under
 * the same key always gives the same stored value, so an exact-match lookup in any store finds
 * it (a keyed blind index inside the value). The IV is a PRF of the plaintext: two different
 * plaintexts get the same IV only by a 96-bit collision, so GCM's nonce is never reused with
 * different data. docs/security.md explains what this leaks (equality of values).
 */
import { createCipheriv, createDecipheriv, createSecretKey, hash, hkdfSync, type KeyObject } from 'node:crypto';
import { TokenStoreError } from '../errors.js';
import { type OAuthToken, SECRET_FIELDS, type SecretField } from '../token.js';
import { type EncryptionKey, parseKeys } from './keys.js';

export const ENCRYPTED_PREFIX = 'zt1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_SALT = 'zoho-token-store/zt1';
const PAYLOAD = /^[A-Za-z0-9_-]+$/;
// Lone UTF-16 halves cannot be encoded as UTF-8: they would come back as U+FFFD.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

interface DerivedKey {
  id: string;
  encKey: KeyObject;
  macKey: HmacKey;
  prefix: string;
  aad: Record<SecretField, Buffer>;
  /** First cache slot of this key's encryptions (plaintext -> stored), one per field. */
  slot: number;
}

export interface FieldCipherOptions {
  /**
   * How many recent encryptions and decryptions to remember (default 0: none). Repeated
   * lookups of the same token then skip the cipher; the entries live in process memory only.
   */
  cacheEntries?: number;
}

/** Whether a stored value is in the encrypted form (anything else is a plaintext legacy value). */
export function isEncryptedValue(value: string): boolean {
  return value.startsWith(ENCRYPTED_PREFIX);
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
  const end = value.indexOf(':', ENCRYPTED_PREFIX.length);
  return end < 0 ? undefined : value.slice(ENCRYPTED_PREFIX.length, end);
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
   * HMAC(key, field || 0x00 || text) as a latin1 string of its 32 bytes, and the UTF-8 bytes of
   * `text` (written once, after the inner pad, for the cipher to reuse).
   */
  digest(field: string, text: string): { mac: string; textBytes: Buffer } {
    const inner = this.#inner;
    const message = Buffer.allocUnsafe(inner.length + field.length + 1 + 3 * text.length);
    inner.copy(message, 0);
    let end = inner.length + message.write(field, inner.length, 'latin1');
    message[end++] = 0;
    const textStart = end;
    end += message.write(text, end, 'utf8');
    const outer = Buffer.from(this.#outer); // the pad, then room for the inner digest
    outer.write(hash('sha256', message.subarray(0, end), 'binary'), inner.length, 'latin1');
    return { mac: hash('sha256', outer, 'binary'), textBytes: message.subarray(textStart, end) };
  }
}

/** Slot numbers of the cache: per field, one for decryptions, then one per key for encryptions. */
const FIELD_SLOT = Object.fromEntries(SECRET_FIELDS.map((f, i) => [f, i])) as Record<SecretField, number>;

export class FieldCipher {
  // Private fields: util.inspect and JSON.stringify of a store never show key material.
  readonly #byId = new Map<string, DerivedKey>();
  /** Newest first: the order lookups try. */
  readonly #newestFirst: DerivedKey[];
  /** Recent encryptions (plaintext -> stored) and decryptions (stored -> plaintext). */
  readonly #cache: RecentResults;
  /** Configured key ids, newest first: the order lookups try. */
  readonly newestFirstKeyIds: readonly string[];

  constructor(keys: readonly EncryptionKey[], options: FieldCipherOptions = {}) {
    const parsed = parseKeys(keys, 'the encryption keys');
    for (const [index, { id, key }] of parsed.entries()) {
      const derive = (info: string) => Buffer.from(hkdfSync('sha256', key, HKDF_SALT, info, 32));
      const aad = Object.fromEntries(SECRET_FIELDS.map((f) => [f, Buffer.from(`${f}:${id}`)])) as Record<SecretField, Buffer>;
      const prefix = `${ENCRYPTED_PREFIX}${id}:`;
      const slot = SECRET_FIELDS.length * (index + 1);
      this.#byId.set(id, { id, encKey: createSecretKey(derive('enc')), macKey: new HmacKey(derive('mac')), prefix, aad, slot });
    }
    this.#newestFirst = [...this.#byId.values()].reverse();
    this.newestFirstKeyIds = this.#newestFirst.map((key) => key.id);
    this.#cache = new RecentResults(SECRET_FIELDS.length * (parsed.length + 1), options.cacheEntries ?? 0);
  }

  /** Configured key ids, oldest first (the last encrypts new writes). */
  get keyIds(): string[] {
    return [...this.#byId.keys()];
  }

  /** Whether a stored value is already encrypted under the newest key. */
  isCurrent(stored: string): boolean {
    return stored.startsWith(this.#newest().prefix);
  }

  /** The stored form of `plaintext` in `field` under the key `keyId` (default: the newest). */
  encrypt(field: SecretField, plaintext: string, keyId?: string): string {
    const key = keyId === undefined ? this.#newest() : this.#byId.get(keyId);
    if (!key) throw new TokenStoreError('CRYPTO', `Encryption key "${keyId}" is not configured`, { field });
    const cached = this.#cache.get(key.slot + FIELD_SLOT[field], plaintext);
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
    const stored = key.prefix + out.toString('base64url');
    this.#cache.set(key.slot + FIELD_SLOT[field], plaintext, stored);
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
    const keyId = keyIdOf(stored);
    const key = keyId === undefined ? undefined : this.#byId.get(keyId);
    if (!key) throw this.#decryptError(field, tokenId, keyId, 'unknown');
    // Characters outside base64url would be skipped by the decoder: refuse them instead.
    const payload = stored.slice(key.prefix.length);
    const bytes = PAYLOAD.test(payload) ? Buffer.from(payload, 'base64url') : undefined;
    if (!bytes || bytes.length < IV_BYTES + TAG_BYTES) throw this.#decryptError(field, tokenId, keyId, 'malformed');
    let plaintext: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.encKey, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(key.aad[field]);
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const body = decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES));
      decipher.final();
      plaintext = body.toString('utf8');
    } catch {
      // The driver's error says only "unable to authenticate data"; no cause is attached.
      throw this.#decryptError(field, tokenId, keyId, 'unauthentic');
    }
    this.#cache.set(FIELD_SLOT[field], stored, plaintext);
    // Only a holder of the key can make a value that authenticates, and this code always makes
    // the canonical one, so the reverse entry is right: saving back what was read is free.
    this.#cache.set(key.slot + FIELD_SLOT[field], plaintext, stored);
    return plaintext;
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
