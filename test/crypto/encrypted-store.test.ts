import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/crypto/cipher.js';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import type { EncryptionKey } from '../../src/crypto/keys.js';
import { TokenStoreError } from '../../src/errors.js';
import { refreshLockKey } from '../../src/lock-keys.js';
import { supportsLocking, type TokenStore } from '../../src/store.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { CLIENT, runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';
import { SECRET_FIELDS, type StoredToken } from '../../src/token.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-encrypted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `t${++n}.db`);

const K1: EncryptionKey = { id: 'k1', key: randomBytes(32) };
const K2: EncryptionKey = { id: 'k2', key: randomBytes(32).toString('base64') };
const K3: EncryptionKey = { id: 'k3', key: randomBytes(32) };

/** Every row of the SQLite file's table as JSON, read with a separate connection. */
function sqliteDump(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return JSON.stringify(db.prepare('SELECT * FROM oauthtoken ORDER BY id').all());
  } finally {
    db.close();
  }
}

const innerSqlitePath = (store: TokenStore) => ((store as EncryptedStore).inner as SQLiteStore).path;

runTokenStoreConformance({
  name: 'EncryptedStore over MemoryStore',
  create: () => new EncryptedStore(new MemoryStore(), { keys: [K1] }),
  raw: async (store) => JSON.stringify(await (store as EncryptedStore).inner.getTokens()),
  encrypted: true,
});
runTokenStoreConformance({
  name: 'EncryptedStore over MemoryStore (three keys, no cache)',
  create: () => new EncryptedStore(new MemoryStore(), { keys: [K1, K2, K3], cacheEntries: 0 }),
  raw: async (store) => JSON.stringify(await (store as EncryptedStore).inner.getTokens()),
  encrypted: true,
});
runTokenStoreConformance({
  name: 'EncryptedStore over SQLiteStore (file)',
  create: () => new EncryptedStore(new SQLiteStore({ path: freshPath() }), { keys: [K1, K2] }),
  raw: (store) => sqliteDump(innerSqlitePath(store)),
  encrypted: true,
  propertyRuns: 25,
});

const ZOHO = (tag: string) => `1000.${tag.padEnd(32, '0').slice(0, 32)}.${'0123456789abcdef'.repeat(2)}`;
const full = (user: string) =>
  sampleToken(user, {
    refreshToken: ZOHO(`refresh${user}`),
    accessToken: ZOHO(`access${user}`),
    grantToken: ZOHO(`grant${user}`),
  });

async function errorOf(promise: Promise<unknown>): Promise<TokenStoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenStoreError);
    return error as TokenStoreError;
  }
  throw new Error('expected a TokenStoreError');
}

describe('EncryptedStore over a SQLite file', () => {
  it('the file bytes hold none of the secrets, only their encrypted forms, each under 255 characters', async () => {
    const path = freshPath();
    const store = new EncryptedStore(new SQLiteStore({ path }), { keys: [K1] });
    const token = full('alice@zylker.com');
    expect(token.refreshToken).toHaveLength(70);
    await store.saveToken(token);
    await store.close();
    expect(existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`).length : 0).toBe(0);
    const bytes = readFileSync(path).toString('latin1');
    expect(bytes).toContain('alice@zylker.com');
    for (const field of SECRET_FIELDS) expect(bytes, field).not.toContain(token[field] as string);
    const db = new Database(path, { readonly: true });
    const row = db.prepare('SELECT * FROM oauthtoken').get() as Record<string, string>;
    db.close();
    for (const column of ['client_secret', 'refresh_token', 'access_token', 'grant_token']) {
      expect(row[column]).toMatch(/^zt2:k1:[A-Za-z0-9_-]+$/);
      expect(row[column]?.length).toBeLessThan(255);
    }
    expect(row.user_name).toBe('alice@zylker.com');
    expect(row.client_id).toBe(CLIENT.clientId);
    // The blind index: the stored value is exactly what the cipher makes, so lookups are exact matches.
    expect(row.refresh_token).toBe(new FieldCipher([K1]).encrypt('refreshToken', token.refreshToken as string));
  });

  it('reads plaintext rows written before encryption, finds them by every rule, and encrypts them on save', async () => {
    const path = freshPath();
    const plain = new SQLiteStore({ path });
    const legacy = await plain.saveToken(full('legacy@zylker.com'));
    const nameless = await plain.saveToken({ ...CLIENT, refreshToken: ZOHO('nameless'), accessToken: ZOHO('namelessaccess') });
    await plain.close();

    const store = new EncryptedStore(new SQLiteStore({ path }), { keys: [K1, K2] });
    expect(await store.findToken({ userName: 'legacy@zylker.com' })).toEqual(legacy);
    expect(await store.findToken({ ...CLIENT, refreshToken: legacy.refreshToken })).toEqual(legacy);
    expect(await store.findToken({ accessToken: nameless.accessToken })).toEqual(nameless);
    expect(await store.getTokens()).toEqual([legacy, nameless]);

    // Saving by refresh token (no id, no user name) updates the plaintext row: no duplicate.
    const updated = await store.saveToken({ ...CLIENT, refreshToken: nameless.refreshToken, accessToken: ZOHO('fresh') });
    expect(updated.id).toBe(nameless.id);
    await store.saveToken(legacy);
    expect(await store.getTokens()).toEqual([legacy, { ...updated }]);
    const dump = sqliteDump(path);
    for (const secret of [legacy.refreshToken, legacy.accessToken, legacy.grantToken, legacy.clientSecret, nameless.refreshToken]) {
      expect(dump).not.toContain(secret);
    }
    expect(dump.match(/zt2:k2:/g)).toHaveLength(4 + 3);
    await store.close();
  });

  it('a wrong key, a missing key id or a flipped byte is a CRYPTO error naming id, field and key id; nothing changes', async () => {
    const path = freshPath();
    const writer = new EncryptedStore(new SQLiteStore({ path }), { keys: [K1] });
    const token = full('bob@zylker.com');
    await writer.saveToken(token);
    await writer.close();
    const before = sqliteDump(path);
    const secrets = SECRET_FIELDS.map((f) => token[f] as string);

    const check = async (error: TokenStoreError, pattern: RegExp) => {
      expect(error.reason).toBe('CRYPTO');
      expect(error.message).toMatch(/token id 1/);
      expect(error.message).toMatch(pattern);
      for (const secret of secrets) expect(error.message).not.toContain(secret);
      expect(sqliteDump(path)).toBe(before);
    };

    const wrongKey = new EncryptedStore(new SQLiteStore({ path }), { keys: [{ id: 'k1', key: randomBytes(32) }] });
    const wrong = await errorOf(wrongKey.findToken({ userName: 'bob@zylker.com' }));
    await check(wrong, /Cannot decrypt clientSecret of token id 1: authentication failed with key "k1"/);
    expect(wrong.field).toBe('clientSecret');
    await check(await errorOf(wrongKey.getTokens()), /authentication failed with key "k1"/);
    await check(await errorOf(wrongKey.rotateKeys()), /authentication failed with key "k1"/);
    await wrongKey.close();

    const missing = new EncryptedStore(new SQLiteStore({ path }), { keys: [K2] });
    await check(await errorOf(missing.findTokenById('1')), /encrypted with key "k1", which is not configured \(configured: k2\)/);
    await check(await errorOf(missing.rotateKeys()), /key "k1", which is not configured/);
    // Its lookups by an encrypted field simply find nothing: no configured key makes that value.
    expect(await missing.findToken({ ...CLIENT, refreshToken: token.refreshToken })).toBeNull();
    await missing.close();

    // Flip one byte of the stored access token's ciphertext.
    const db = new Database(path);
    const stored = (db.prepare('SELECT access_token FROM oauthtoken').get() as { access_token: string }).access_token;
    const bytes = Buffer.from(stored.slice('zt2:k1:'.length), 'base64url');
    bytes[30] = (bytes[30] ?? 0) ^ 0x01;
    db.prepare('UPDATE oauthtoken SET access_token = ?').run(`zt2:k1:${bytes.toString('base64url')}`);
    db.close();
    const tamperedDump = sqliteDump(path);
    const reader = new EncryptedStore(new SQLiteStore({ path }), { keys: [K1] });
    const tampered = await errorOf(reader.findToken({ ...CLIENT, refreshToken: token.refreshToken }));
    expect(tampered.reason).toBe('CRYPTO');
    expect(tampered.field).toBe('accessToken');
    expect(tampered.message).toMatch(/Cannot decrypt accessToken of token id 1: authentication failed with key "k1"/);
    for (const secret of secrets) expect(tampered.message).not.toContain(secret);
    expect(sqliteDump(path)).toBe(tamperedDump);
    await reader.close();
  });

  it('rotateKeys re-encrypts every token under the newest key, keeps ids, and a second run changes nothing', async () => {
    const path = freshPath();
    const plain = new SQLiteStore({ path });
    await plain.saveToken(full('plain@zylker.com'));
    await plain.close();
    const written: Record<string, StoredToken> = {};
    const keyLists = [[K1], [K1, K2], [K1, K2, K3]];
    for (const [i, keys] of keyLists.entries()) {
      const store = new EncryptedStore(new SQLiteStore({ path }), { keys });
      for (const user of [`a${i}@zylker.com`, `b${i}@zylker.com`]) written[user] = await store.saveToken(full(user));
      await store.close();
    }
    expect(sqliteDump(path).match(/zt2:k1:/g)).toHaveLength(8);

    const store = new EncryptedStore(new SQLiteStore({ path }), { keys: [K1, K2, K3] });
    const before = await store.getTokens();
    expect(await store.rotateKeys()).toEqual({ rotated: 5, total: 7 });
    expect(await store.rotateKeys()).toEqual({ rotated: 0, total: 7 });
    await store.close();
    const dump = sqliteDump(path);
    expect(dump).not.toMatch(/zt2:k[12]:/);
    expect(dump.match(/zt2:k3:/g)).toHaveLength(7 * 4);

    const newestOnly = new EncryptedStore(new SQLiteStore({ path }), { keys: [K3] });
    expect(await newestOnly.getTokens()).toEqual(before);
    for (const [user, token] of Object.entries(written)) {
      expect(await newestOnly.findToken({ ...CLIENT, refreshToken: token.refreshToken })).toEqual(token);
      expect((await newestOnly.findToken({ userName: user }))?.id).toBe(token.id);
    }
    await newestOnly.close();
  });
});

describe('EncryptedStore', () => {
  it('rotation runs while another process reads every token and adds new ones', async () => {
    const path = freshPath();
    const before = new EncryptedStore(new SQLiteStore({ path }), { keys: [K1] });
    const tokens = [];
    for (let i = 0; i < 60; i++) tokens.push(await before.saveToken(full(`r${i}@zylker.com`)));
    await before.close();
    const rotator = new EncryptedStore(new SQLiteStore({ path }), { keys: [K1, K2] });
    const other = new EncryptedStore(new SQLiteStore({ path }), { keys: [K1, K2] });
    let reading = true;
    const reader = (async () => {
      let reads = 0;
      while (reading || reads < tokens.length) {
        const token = tokens[reads++ % tokens.length] as StoredToken;
        expect(await other.findToken({ ...CLIENT, refreshToken: token.refreshToken })).toEqual(token);
        if (reads % 10 === 0) await other.saveToken(full(`new${reads}@zylker.com`));
      }
      return reads;
    })();
    const result = await rotator.rotateKeys();
    reading = false;
    expect(await reader).toBeGreaterThanOrEqual(tokens.length);
    expect(result.rotated).toBe(60);
    expect(await rotator.rotateKeys()).toMatchObject({ rotated: 0 });
    expect(sqliteDump(path)).not.toContain('zt2:k1:');
    await rotator.close();
    await other.close();
  });

  it('rotateKeys keeps a refresh that another writer saves, under the refresh lock, while the token is being rotated', async () => {
    const memory = new MemoryStore();
    await new EncryptedStore(memory, { keys: [K1] }).saveToken(full('busy@zylker.com'));
    const refreshed = ZOHO('refreshedaccess');
    let racer: Promise<void> | undefined;
    // The inner store as rotateKeys sees it: right after rotateKeys reads the token, a
    // TokenManager-like writer refreshes it under the same lock and saves a new access token.
    const inner: TokenStore = {
      findToken: (p) => memory.findToken(p),
      saveToken: (t) => memory.saveToken(t),
      deleteToken: (id) => memory.deleteToken(id),
      getTokens: () => memory.getTokens(),
      deleteTokens: () => memory.deleteTokens(),
      close: () => memory.close(),
      withLock: (key, ttlMs, fn) => memory.withLock(key, ttlMs, fn),
      findTokenById: async (id) => {
        const row = await memory.findTokenById(id);
        if (!racer) {
          const writer = new EncryptedStore(memory, { keys: [K1, K2] });
          racer = memory.withLock(refreshLockKey(CLIENT.clientId, id), 5_000, async () => {
            const current = await writer.findTokenById(id);
            await writer.saveToken({ ...current, accessToken: refreshed, expiryTime: 42 });
          });
          // Let the writer finish unless it waits for the lock (then rotateKeys holds it).
          await Promise.race([racer, new Promise((resolve) => setTimeout(resolve, 100))]);
        }
        return row;
      },
    };
    const rotator = new EncryptedStore(inner, { keys: [K1, K2] });
    expect(await rotator.rotateKeys()).toEqual({ rotated: 1, total: 1 });
    await racer;
    expect(await rotator.findTokenById('1')).toMatchObject({ accessToken: refreshed, expiryTime: 42 });
    expect(JSON.stringify(await memory.getTokens())).not.toContain('zt2:k1:');
  });

  it('finds and updates a row written under an older key by every rule, without duplicating it', async () => {
    const inner = new MemoryStore();
    const old = new EncryptedStore(inner, { keys: [K1] });
    const saved = await old.saveToken({ ...CLIENT, grantToken: ZOHO('g'), refreshToken: ZOHO('r'), accessToken: ZOHO('a') });
    const store = new EncryptedStore(inner, { keys: [K1, K2] });
    expect(await store.findToken({ ...CLIENT, grantToken: ZOHO('g') })).toEqual(saved);
    expect(await store.findToken({ accessToken: ZOHO('a') })).toEqual(saved);
    await store.saveToken({ ...CLIENT, grantToken: ZOHO('g'), refreshToken: ZOHO('r'), accessToken: ZOHO('a2') });
    await store.saveToken({ id: '77', accessToken: ZOHO('a2'), expiryTime: 5 });
    const rows = await inner.getTokens();
    expect(rows.map((r) => r.id)).toEqual(['1']);
    expect(rows[0]?.accessToken).toMatch(/^zt2:k2:/);
    expect(await store.getTokens()).toEqual([{ id: '1', accessToken: ZOHO('a2'), expiryTime: 5 }]);
  });

  it('reads zt1 rows (the format before zt2) by every rule, moves a saved one to zt2 in place, and rotateKeys moves the rest', async () => {
    const inner = new MemoryStore();
    const before = new EncryptedStore(inner, { keys: [K1], writeFormat: 'zt1' });
    const a = await before.saveToken({ ...sampleToken('a@zylker.com'), grantToken: ZOHO('ga') });
    const b = await before.saveToken(sampleToken('b@zylker.com'));
    expect(
      (await inner.getTokens()).every((row) => SECRET_FIELDS.every((f) => row[f] === undefined || row[f]?.startsWith('zt1:k1:'))),
    ).toBe(true);

    const store = new EncryptedStore(inner, { keys: [K1] });
    expect(await store.findToken({ userName: 'a@zylker.com' })).toEqual(a);
    expect(await store.findToken({ ...CLIENT, grantToken: ZOHO('ga') })).toEqual(a);
    expect(await store.findToken({ ...CLIENT, refreshToken: a.refreshToken })).toEqual(a);
    expect(await store.findToken({ accessToken: b.accessToken })).toEqual(b);
    expect(await store.findTokenById(b.id)).toEqual(b);

    // Matched by its refresh token (an encrypted rule field), the zt1 row is updated, not duplicated.
    const { userName: _, ...byRefresh } = { ...a, id: undefined, accessToken: ZOHO('a2') };
    await store.saveToken(byRefresh);
    const rows = await inner.getTokens();
    expect(rows.map((row) => row.id)).toEqual([a.id, b.id]);
    expect(rows[0]?.accessToken).toMatch(/^zt2:k1:/);
    expect(rows[1]?.accessToken).toMatch(/^zt1:k1:/);

    // A process still writing zt1 (mid-upgrade) reads the zt2 row.
    expect((await before.findToken({ ...CLIENT, refreshToken: a.refreshToken }))?.accessToken).toBe(ZOHO('a2'));

    expect(await store.rotateKeys()).toEqual({ rotated: 1, total: 2 }); // a was rewritten whole by its save
    for (const row of await inner.getTokens()) for (const f of SECRET_FIELDS) if (row[f] !== undefined) expect(row[f]).toMatch(/^zt2:k1:/);
    expect(await store.rotateKeys()).toEqual({ rotated: 0, total: 2 });
    expect(await store.findToken({ accessToken: b.accessToken })).toEqual(b);
  });

  it('a value swapped into another field, or relabelled with another key id, fails its check', async () => {
    const inner = new MemoryStore();
    const store = new EncryptedStore(inner, { keys: [K1, K2] });
    const saved = await store.saveToken({ ...sampleToken('swap@zylker.com'), grantToken: ZOHO('g') });
    const row = (await inner.findTokenById(saved.id)) as StoredToken;
    const fields = SECRET_FIELDS.filter((f) => row[f] !== undefined);
    expect(fields).toEqual([...SECRET_FIELDS]);
    for (const from of fields) {
      for (const to of fields.filter((f) => f !== from)) {
        // The row as an attacker with write access to the table leaves it: `to` holds `from`'s value.
        await inner.saveToken({ ...row, [to]: row[from] });
        const error = await errorOf(store.findTokenById(saved.id));
        expect(error.reason).toBe('CRYPTO');
        expect(error.field).toBe(to);
        expect(error.message).toContain(`Cannot decrypt ${to} of token id ${saved.id}: authentication failed with key "k2"`);
      }
    }
    // The same bytes labelled as encrypted under the other configured key: the AAD names the key.
    const relabelled = (row.accessToken as string).replace(/^zt2:k2:/, 'zt2:k1:');
    await inner.saveToken({ ...row, accessToken: relabelled });
    expect((await errorOf(store.findTokenById(saved.id))).message).toContain('authentication failed with key "k1"');
    // Put back as written, the row reads again.
    await inner.saveToken(row);
    expect(await store.findTokenById(saved.id)).toEqual(saved);
  });

  it('a caller value that looks encrypted is never matched as a plaintext row', async () => {
    const inner = new MemoryStore();
    const store = new EncryptedStore(inner, { keys: [K1] });
    await store.saveToken({ accessToken: ZOHO('a') });
    const stored = (await inner.getTokens())[0]?.accessToken as string;
    expect(await store.findToken({ accessToken: stored })).toBeNull();
  });

  it('refuses a value too long to store once encrypted, naming the field', async () => {
    const store = new EncryptedStore(new MemoryStore(), { keys: [K1] });
    const error = await errorOf(store.saveToken({ accessToken: 'x'.repeat(4000) }));
    expect(error.reason).toBe('INVALID_TOKEN');
    expect(error.field).toBe('accessToken');
    expect(error.message).toMatch(/accessToken is too long to store encrypted/);
    expect(await store.getTokens()).toEqual([]);
  });

  it('forwards withLock only when the inner store has it', async () => {
    const locking = new EncryptedStore(new MemoryStore(), { keys: [K1] });
    expect(supportsLocking(locking)).toBe(true);
    expect(await locking.withLock?.('k', 1000, async () => 'held')).toBe('held');
    const memory = new MemoryStore();
    const withoutLock: TokenStore = {
      findToken: (p) => memory.findToken(p),
      saveToken: (t) => memory.saveToken(t),
      deleteToken: (id) => memory.deleteToken(id),
      getTokens: () => memory.getTokens(),
      deleteTokens: () => memory.deleteTokens(),
      findTokenById: (id) => memory.findTokenById(id),
      close: () => memory.close(),
    };
    const plain = new EncryptedStore(withoutLock, { keys: [K1] });
    expect(supportsLocking(plain)).toBe(false);
    expect((await plain.saveToken(sampleToken('a'))).id).toBe('1');
  });

  it('refuses bad key options with errors naming the key id, never the key', () => {
    const short = randomBytes(31).toString('base64');
    expect(() => new EncryptedStore(new MemoryStore(), { keys: [{ id: 'prod', key: short }] })).toThrow(/Key "prod" .*31 bytes long/);
    try {
      new EncryptedStore(new MemoryStore(), { keys: [{ id: 'prod', key: short }] });
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
    expect(() => new EncryptedStore(new MemoryStore(), { keys: [K1, { ...K2, id: 'k1' }] })).toThrow(/Duplicate key id "k1"/);
    expect(() => new EncryptedStore(new MemoryStore(), { keys: [] })).toThrow(/No encryption keys/);
  });

  it('closes the inner store, and is unusable afterwards', async () => {
    const inner = new MemoryStore();
    const store = new EncryptedStore(inner, { keys: [K1] });
    await store.close();
    await expect(store.getTokens()).rejects.toMatchObject({ reason: 'CLOSED' });
    await expect(inner.getTokens()).rejects.toMatchObject({ reason: 'CLOSED' });
  });
});
