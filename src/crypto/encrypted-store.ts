/**
 * EncryptedStore: wraps any TokenStore and keeps clientSecret, refreshToken, accessToken and
 * grantToken encrypted at rest (cipher.ts), in Zoho's ten columns with no schema change.
 * Because encryption is deterministic per key, a lookup by refresh, access or grant token stays
 * an exact-match (indexed) lookup in the inner store: it tries the value's form under each key,
 * newest first, then the plaintext form of rows written before encryption was turned on.
 */
import { TokenStoreError } from '../errors.js';
import { refreshLockKey } from '../lock-keys.js';
import type { ReauthMark } from '../reauth-marks.js';
import { supportsBulkInsert, supportsLocking, supportsReauthMarks, type TokenStore } from '../store.js';
import { ClosedGuard } from '../stores/closed.js';
import {
  type LookupField,
  locateForSaveAsync,
  lookupRuleOf,
  MAX_FIELD_LENGTH,
  MAX_LAYOUT_ID_LENGTH,
  type MatchRule,
  matchRule,
  normalizeTokenForSave,
  type OAuthToken,
  SECRET_FIELDS,
  type SecretField,
  type StoredToken,
  tokenToStore,
  validateId,
} from '../token.js';
import { type CipherFormat, FieldCipher, isEncryptedValue } from './cipher.js';
import type { EncryptionKey } from './keys.js';

export interface EncryptedStoreOptions {
  /** Keys as `{ id, key }` (32 bytes, a Buffer or base64); the last encrypts new writes, all can read. */
  keys: readonly EncryptionKey[];
  /**
   * Recent encryptions/decryptions kept in process memory, so the token an application uses on
   * every call costs no cipher work (default 4096; 0 turns it off).
   */
  cacheEntries?: number;
  /**
   * The format new values are written in: 'zt2' (default) or 'zt1' (cipher.ts). Both are read.
   * Releases before zt2 read a zt2 value as plaintext: a fleet that upgrades process by process
   * keeps 'zt1' until every process reads zt2, then drops it (and may run rotateKeys).
   */
  writeFormat?: CipherFormat;
}

/** How long rotateKeys holds one token's lock if it dies mid-rewrite (a TokenManager's default). */
const ROTATE_LOCK_TTL_MS = 30_000;

const SECRET = new Set<string>(SECRET_FIELDS);
const isSecretField = (field: string): field is SecretField => SECRET.has(field);

export class EncryptedStore implements TokenStore {
  readonly inner: TokenStore;
  readonly withLock?: <T>(key: string, ttlMs: number, fn: () => Promise<T>) => Promise<T>;
  /** BulkInsertStore, when the inner store has it: the tokens are encrypted, then inserted by it. */
  readonly bulkInsert?: (tokens: readonly StoredToken[], expectedCount: number) => Promise<boolean>;
  /**
   * ReauthMarkStore, when the inner store has it. Marks pass through as they are: they hold a
   * SHA-256 of the plaintext refresh token, never the token, so there is nothing to encrypt.
   */
  readonly setReauthMark?: (mark: ReauthMark) => Promise<void>;
  readonly getReauthMark?: (tokenId: string) => Promise<ReauthMark | null>;
  readonly getReauthMarks?: () => Promise<ReauthMark[]>;
  readonly clearReauthMark?: (tokenId: string) => Promise<void>;
  readonly #cipher: FieldCipher;
  readonly #guard = new ClosedGuard('EncryptedStore');

  constructor(inner: TokenStore, options: EncryptedStoreOptions) {
    if (typeof inner !== 'object' || inner === null || typeof inner.findToken !== 'function' || typeof inner.saveToken !== 'function') {
      throw new TokenStoreError('INVALID_ARGUMENT', 'EncryptedStore needs a TokenStore to wrap');
    }
    if (typeof options !== 'object' || options === null) {
      throw new TokenStoreError('INVALID_ARGUMENT', 'EncryptedStore needs options with { keys }');
    }
    this.inner = inner;
    this.#cipher = new FieldCipher(options.keys, { cacheEntries: options.cacheEntries ?? 4096, writeFormat: options.writeFormat });
    if (supportsLocking(inner)) {
      this.withLock = <T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> => {
        this.#guard.check();
        return inner.withLock(key, ttlMs, fn);
      };
    }
    if (supportsBulkInsert(inner)) {
      this.bulkInsert = (tokens, expectedCount) => {
        this.#guard.check();
        const encrypted = tokens.map((token) => ({ ...this.#encryptToken(normalizeTokenForSave(token)), id: validateId(token.id) }));
        return inner.bulkInsert(encrypted, expectedCount);
      };
    }
    if (supportsReauthMarks(inner)) {
      this.setReauthMark = (mark) => {
        this.#guard.check();
        return inner.setReauthMark(mark);
      };
      this.getReauthMark = (tokenId) => {
        this.#guard.check();
        return inner.getReauthMark(tokenId);
      };
      this.getReauthMarks = () => {
        this.#guard.check();
        return inner.getReauthMarks();
      };
      this.clearReauthMark = (tokenId) => {
        this.#guard.check();
        return inner.clearReauthMark(tokenId);
      };
    }
  }

  /** Configured key ids, oldest first; the last encrypts new writes. */
  get keyIds(): string[] {
    return this.#cipher.keyIds;
  }

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    this.#guard.check();
    const rule = lookupRuleOf(partial);
    if (!rule) return null;
    // The forms are made one at a time: a row under the newest key (the usual case) costs one
    // encryption, not one per configured key.
    let form = 0;
    for (
      let innerPartial = this.#innerPartial(rule, partial, form);
      innerPartial;
      innerPartial = this.#innerPartial(rule, partial, ++form)
    ) {
      const row = await this.inner.findToken(innerPartial);
      if (row) return this.#decryptToken(row, rule);
    }
    // Rows only move toward the newest key (saves, rotateKeys). One that moved while the older
    // forms were tried is under the newest key now: look there once more before saying "none".
    const newest = form > 1 ? this.#innerPartial(rule, partial, 0) : undefined;
    const moved = newest ? await this.inner.findToken(newest) : null;
    return moved ? this.#decryptToken(moved, rule) : null;
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    this.#guard.check();
    const row = await this.inner.findTokenById(validateId(id, 'id', MAX_LAYOUT_ID_LENGTH));
    return row ? this.#decryptToken(row) : null;
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.#guard.check();
    // Ids as long as any table layout holds (a uuid); the inner store refuses what its table cannot.
    const token = normalizeTokenForSave(input, { maxIdLength: MAX_LAYOUT_ID_LENGTH });
    const encrypted = this.#encryptToken(token);
    const rule = matchRule(token);
    // The inner store matches by id, then by the rule, in its own transaction. A user-name rule
    // needs no help; an encrypted rule field may be stored under an older key or in plaintext,
    // which the inner store cannot see, so the row is located here first and pinned by its id.
    if (rule && isSecretField(rule.field)) {
      const existing = await locateForSaveAsync(token, (field, value) => this.#findStored(field, value, token));
      if (existing) encrypted.id = existing.id;
    }
    const saved = await this.inner.saveToken(encrypted);
    const stored = tokenToStore(token, saved.id);
    // A field the inner table has no column for was not kept (table-layouts.ts): neither is it returned.
    const inner = this.inner as Partial<{ tableLayout(): Promise<{ absentFields: (keyof OAuthToken)[] }> }>;
    if (typeof inner.tableLayout === 'function') for (const field of (await inner.tableLayout()).absentFields) delete stored[field];
    return stored;
  }

  async deleteToken(id: string): Promise<void> {
    this.#guard.check();
    await this.inner.deleteToken(validateId(id, 'id', MAX_LAYOUT_ID_LENGTH));
  }

  async getTokens(): Promise<StoredToken[]> {
    this.#guard.check();
    return (await this.inner.getTokens()).map((row) => this.#decryptToken(row));
  }

  async deleteTokens(): Promise<void> {
    this.#guard.check();
    await this.inner.deleteTokens();
  }

  async close(): Promise<void> {
    if (this.#guard.close()) await this.inner.close();
  }

  /**
   * Re-encrypts every token under the newest key: plaintext rows and rows under older keys.
   * One token at a time, each re-read and rewritten under its refresh lock (lock-keys.ts) when
   * the inner store has locks, so readers and writers keep working meanwhile and a refresh saved
   * during the rotation is kept; rerunning it is harmless (current tokens are read, not
   * rewritten). A value no configured key can read stops it with a CRYPTO error and leaves that
   * token as it was.
   */
  async rotateKeys(): Promise<{ rotated: number; total: number }> {
    this.#guard.check();
    const rows = await this.inner.getTokens();
    const inner = this.inner;
    let rotated = 0;
    for (const { id, clientId } of rows) {
      const rotateOne = async (): Promise<boolean> => {
        const row = await inner.findTokenById(id);
        if (!row) return false;
        // Decrypting current rows too proves every token is readable with the configured keys.
        const plain = this.#decryptToken(row);
        if (this.#isCurrent(row)) return false;
        await inner.saveToken(this.#encryptToken(plain));
        return true;
      };
      // Under the lock a TokenManager refreshes this token with, so a refresh saved meanwhile is
      // re-read here, never overwritten by the older value.
      const done = supportsLocking(inner)
        ? await inner.withLock(refreshLockKey(clientId, id), ROTATE_LOCK_TTL_MS, rotateOne)
        : await rotateOne();
      if (done) rotated++;
    }
    return { rotated, total: rows.length };
  }

  /**
   * The stored forms of a lookup, as partials for the inner store, by number: the value (and the
   * client secret that rules 3 and 4 require) in each of the cipher's lookup forms (0 is the
   * newest key in the write format), then as plaintext; undefined past the last. Callers make
   * each only when the one before found nothing. A plain method, not a generator of closures:
   * this runs on every lookup.
   */
  #innerPartial(rule: MatchRule, partial: OAuthToken, form: number): OAuthToken | undefined {
    const field = rule.field;
    if (!isSecretField(field)) return form === 0 ? { [field]: rule.value } : undefined;
    const forms = this.#cipher.lookupForms;
    const cipherForm = forms[form];
    // A caller's value that looks encrypted is not a legacy plaintext: never match it as one.
    if (!cipherForm && (form > forms.length || isEncryptedValue(rule.value))) return undefined;
    const value = cipherForm ? this.#cipher.encrypt(field, rule.value, cipherForm.keyId, cipherForm.format) : rule.value;
    if (field === 'accessToken') return { accessToken: value };
    const secret = partial.clientSecret;
    const clientSecret =
      secret === undefined || !cipherForm ? secret : this.#cipher.encrypt('clientSecret', secret, cipherForm.keyId, cipherForm.format);
    return { clientId: partial.clientId, clientSecret, [field]: value };
  }

  /** The inner row (still encrypted) that a lookup of `value` in `field` finds, for saveToken. */
  async #findStored(field: LookupField, value: string, token: OAuthToken): Promise<StoredToken | null> {
    if (field === 'id') return this.inner.findTokenById(value);
    const rule = { field, value };
    for (let form = 0, partial = this.#innerPartial(rule, token, form); partial; partial = this.#innerPartial(rule, token, ++form)) {
      const row = await this.inner.findToken(partial);
      if (row) return row;
    }
    return null;
  }

  #encryptToken(token: OAuthToken): OAuthToken {
    const out: OAuthToken = { ...token };
    for (const field of SECRET_FIELDS) {
      const value = token[field];
      if (value === undefined) continue;
      const stored = this.#cipher.encrypt(field, value);
      if (stored.length > MAX_FIELD_LENGTH) {
        throw new TokenStoreError(
          'INVALID_TOKEN',
          `Invalid token: ${field} is too long to store encrypted (${stored.length} characters once encrypted; at most ${MAX_FIELD_LENGTH})`,
          { field },
        );
      }
      out[field] = stored;
    }
    return out;
  }

  /** Decrypts a row; `known` is the lookup that matched it, whose plaintext is the lookup value. */
  #decryptToken(row: StoredToken, known?: MatchRule): StoredToken {
    const out: StoredToken = { ...row };
    for (const field of SECRET_FIELDS) {
      const value = row[field];
      if (value === undefined) continue;
      if (known?.field === field) out[field] = known.value;
      else if (isEncryptedValue(value)) out[field] = this.#cipher.decrypt(field, value, row.id);
    }
    return out;
  }

  #isCurrent(row: StoredToken): boolean {
    return SECRET_FIELDS.every((field) => {
      const value = row[field];
      return value === undefined || this.#cipher.isCurrent(value);
    });
  }
}
