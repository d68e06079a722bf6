/**
 * Persisted re-authorization marks, against the emulator: the manager that sees Zoho reject a
 * refresh token records it in the store, another manager on the same store (another process)
 * then refuses without asking Zoho, and a re-authorization by anyone voids the mark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import { ReauthorizationRequiredError, TokenStoreError } from '../../src/errors.js';
import { type Logger, TokenManager } from '../../src/manager/token-manager.js';
import { hashRefreshToken, type ReauthMark } from '../../src/reauth-marks.js';
import type { TokenStore } from '../../src/store.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { allStoreFactories } from '../helpers/all-stores.js';

const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'ztoken-manager-marks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A SQLite store that counts mark reads, and can be told to fail mark writes. */
class WatchedStore extends SQLiteStore {
  markReads = 0;
  failMarkWrites = false;
  override async getReauthMark(tokenId: string): Promise<ReauthMark | null> {
    this.markReads++;
    return super.getReauthMark(tokenId);
  }
  override async setReauthMark(mark: ReauthMark): Promise<void> {
    if (this.failMarkWrites) throw new TokenStoreError('WRITE_FAILED', 'the disk is full');
    return super.setReauthMark(mark);
  }
}

let emulators: Emulator[] = [];
let stores: TokenStore[] = [];
afterEach(async () => {
  await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
  await Promise.all(emulators.map((e) => e.close()));
  emulators = [];
  stores = [];
});

/** An emulator and a store file; `manager()` makes a manager with its own connection to the file (a process of the fleet). */
async function fleet(wrap: (store: SQLiteStore) => TokenStore = (store) => store) {
  const emulator = await startEmulator();
  emulators.push(emulator);
  const path = join(dir, `fleet${++n}.db`);
  const open = () => {
    const store = new WatchedStore({ path });
    stores.push(store);
    return store;
  };
  const manager = (store: SQLiteStore = open(), logger: Logger = {}) =>
    new TokenManager({
      store: wrap(store),
      clientId: DEFAULT_CLIENT.clientId,
      clientSecret: DEFAULT_CLIENT.clientSecret,
      accountsUrl: emulator.url,
      now: () => emulator.clock.now(),
      logger,
    });
  return { emulator, open, manager };
}

describe('re-authorization marks in the store', () => {
  it('a rejected refresh token is marked in the store; another manager refuses without calling Zoho; re-authorization clears it', async () => {
    const { emulator, open, manager } = await fleet();
    const storeA = open();
    const a = manager(storeA);
    const token = await a.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    emulator.revokeRefreshToken(token.refreshToken!);
    emulator.clock.advance(2 * HOUR);
    const rejectedAt = emulator.clock.now();
    await expect(a.getAccessToken({ userName: 'alice' })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    const mark = await storeA.getReauthMark(token.id);
    expect(mark).toEqual({
      tokenId: token.id,
      refreshTokenHash: hashRefreshToken(token.refreshToken),
      reason: 'invalid_code',
      markedAt: expect.any(Number),
    });
    // The emulator's clock runs on from where it was moved: the mark carries the time of the rejection.
    expect(mark!.markedAt).toBeGreaterThanOrEqual(rejectedAt);
    expect(mark!.markedAt).toBeLessThanOrEqual(emulator.clock.now());
    expect(JSON.stringify(await storeA.getReauthMarks())).not.toContain(token.refreshToken);

    // Another process: it has never seen the rejection, and learns it from the store.
    const b = manager();
    expect(b.needsReauthorization(token.id)).toBe(false);
    const requests = emulator.counters.tokenRequests;
    const error = await b.getAccessToken({ userName: 'alice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect((error as ReauthorizationRequiredError).tokenId).toBe(token.id);
    expect((error as Error).message).toContain('invalid_code');
    expect(emulator.counters.tokenRequests, 'the second manager did not ask Zoho').toBe(requests);
    expect(b.needsReauthorization(token.id)).toBe(true);

    // The user signs in again (through manager A): the mark is gone for everyone.
    const again = await a.authorize({ grantToken: emulator.issueGrantToken(), userName: 'alice' });
    expect(again.id).toBe(token.id);
    expect(again.refreshToken).not.toBe(token.refreshToken);
    expect(await open().getReauthMark(token.id)).toBeNull();
    expect(await b.getAccessToken({ userName: 'alice' })).toBe(again.accessToken);
    expect(b.needsReauthorization(token.id)).toBe(false);
  });

  it('a re-authorization that left the mark behind (a process without marks, an official SDK) still wins: the mark is stale and cleared', async () => {
    const { emulator, open, manager } = await fleet();
    const store = open();
    const a = manager(store);
    const token = await a.authorize({ grantToken: emulator.issueGrantToken(), userName: 'bob' });
    // A mark of an older refresh token of this token: someone re-authorized since.
    await store.setReauthMark({ tokenId: token.id, refreshTokenHash: hashRefreshToken('1000.older'), reason: 'invalid_code', markedAt: 1 });
    emulator.clock.advance(2 * HOUR);
    const b = manager();
    const fresh = await b.getAccessToken({ userName: 'bob' });
    expect(fresh).not.toBe(token.accessToken);
    expect(b.needsReauthorization(token.id)).toBe(false);
    expect(await store.getReauthMark(token.id)).toBeNull();
  });

  it('cached access tokens never read the marks; a refresh reads them once', async () => {
    const { emulator, open, manager } = await fleet();
    const store = open() as WatchedStore;
    const m = manager(store);
    await m.authorize({ grantToken: emulator.issueGrantToken(), userName: 'carol' });
    for (let i = 0; i < 5; i++) await m.getAccessToken({ userName: 'carol' });
    expect(store.markReads).toBe(0);
    emulator.clock.advance(2 * HOUR);
    await m.getAccessToken({ userName: 'carol' });
    expect(store.markReads).toBe(1);
    await m.getAccessToken({ userName: 'carol' });
    expect(store.markReads).toBe(1);
  });

  it('a store that cannot keep the mark is reported, and the ReauthorizationRequiredError still reaches the caller', async () => {
    const { emulator, open, manager } = await fleet();
    const store = open() as WatchedStore;
    const logged: string[] = [];
    const m = manager(store, { error: (message) => logged.push(message) });
    const events: Error[] = [];
    m.on('error', (e) => events.push(e));
    const token = await m.authorize({ grantToken: emulator.issueGrantToken(), userName: 'dave' });
    emulator.revokeRefreshToken(token.refreshToken!);
    emulator.clock.advance(2 * HOUR);
    store.failMarkWrites = true;
    await expect(m.getAccessToken({ userName: 'dave' })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(events.map((e) => e.constructor.name).sort()).toEqual(['ReauthorizationRequiredError', 'TokenStoreError']);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(`token id ${token.id} needs re-authorization`);
    expect(logged[0]).toContain('the disk is full');
    expect(logged.join('\n')).not.toContain(token.refreshToken);
    expect(await store.getReauthMark(token.id)).toBeNull();
    // This process still knows, and asks Zoho no more.
    const requests = emulator.counters.tokenRequests;
    await expect(m.getAccessToken({ userName: 'dave' })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(emulator.counters.tokenRequests).toBe(requests);
  });

  it('through an EncryptedStore the mark hashes the plaintext refresh token, and a second manager honours it', async () => {
    const keys = [{ id: 'k1', key: Buffer.alloc(32, 3) }];
    const { emulator, open, manager } = await fleet((store) => new EncryptedStore(store, { keys }));
    const inner = open();
    const a = manager(inner);
    const token = await a.authorize({ grantToken: emulator.issueGrantToken(), userName: 'erin' });
    emulator.revokeRefreshToken(token.refreshToken!);
    emulator.clock.advance(2 * HOUR);
    await expect(a.getAccessToken({ userName: 'erin' })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect((await inner.getReauthMark(token.id))?.refreshTokenHash).toBe(hashRefreshToken(token.refreshToken));
    const requests = emulator.counters.tokenRequests;
    await expect(manager().getAccessToken({ userName: 'erin' })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
    expect(emulator.counters.tokenRequests).toBe(requests);
  });
});

describe.each(await allStoreFactories())('every store: $name', (factory) => {
  it('one manager marks, a second manager on the same store refuses without Zoho, re-authorization clears the mark', async () => {
    const emulator = await startEmulator();
    emulators.push(emulator);
    const store = await factory.create();
    try {
      const manager = () =>
        new TokenManager({
          store,
          clientId: DEFAULT_CLIENT.clientId,
          clientSecret: DEFAULT_CLIENT.clientSecret,
          accountsUrl: emulator.url,
          now: () => emulator.clock.now(),
        });
      const a = manager();
      const token = await a.authorize({ grantToken: emulator.issueGrantToken(), userName: 'fay' });
      emulator.revokeRefreshToken(token.refreshToken!);
      emulator.clock.advance(2 * HOUR);
      await expect(a.getAccessToken({ userName: 'fay' })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
      const marking = store as TokenStore & { getReauthMark(id: string): Promise<ReauthMark | null> };
      expect((await marking.getReauthMark(token.id))?.refreshTokenHash).toBe(hashRefreshToken(token.refreshToken));
      const requests = emulator.counters.tokenRequests;
      const b = manager();
      await expect(b.getAccessToken({ userName: 'fay' })).rejects.toBeInstanceOf(ReauthorizationRequiredError);
      expect(emulator.counters.tokenRequests).toBe(requests);
      const again = await b.authorize({ grantToken: emulator.issueGrantToken(), userName: 'fay' });
      expect(await marking.getReauthMark(token.id)).toBeNull();
      expect(await a.getAccessToken({ userName: 'fay' })).toBe(again.accessToken);
      expect(a.needsReauthorization(token.id)).toBe(false);
    } finally {
      await factory.destroy(store);
    }
  });
});
