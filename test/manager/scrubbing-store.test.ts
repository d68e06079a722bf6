/** The store as TokenManager calls it: foreign errors scrubbed, its own errors and results untouched. */
import { describe, expect, it } from 'vitest';
import { TokenStoreError, ZohoOAuthError } from '../../src/errors.js';
import { scrubbingStore } from '../../src/manager/scrubbing-store.js';
import type { TokenStore } from '../../src/store.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { type OAuthToken, redact } from '../../src/token.js';

const CLIENT_SECRET = 'client-secret-0123456789abcdef';
const REFRESH = '1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210';
const OTHER = 'refresh-not-zoho-shaped-0123456789';
const token: OAuthToken = { userName: 'alice', clientId: '1000.CLIENT', clientSecret: CLIENT_SECRET, refreshToken: OTHER };

/** A store whose every call fails with `make(token given)`. */
function failingStore(make: (given: OAuthToken | undefined) => unknown): TokenStore {
  const fail = async (given?: OAuthToken): Promise<never> => {
    throw make(given);
  };
  return {
    findToken: (partial) => fail(partial),
    saveToken: (t) => fail(t),
    deleteToken: () => fail(),
    getTokens: () => fail(),
    deleteTokens: () => fail(),
    findTokenById: () => fail(),
    close: () => fail(),
    withLock: () => fail(),
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('scrubbingStore', () => {
  it('passes results through and calls the store once per call', async () => {
    const inner = new MemoryStore();
    const store = scrubbingStore(inner, CLIENT_SECRET);
    const saved = await store.saveToken(token);
    expect(saved).toEqual({ id: '1', ...token });
    expect(await store.findToken({ userName: 'alice' })).toEqual(saved);
    expect(await store.findTokenById('1')).toEqual(saved);
    expect(await store.getTokens()).toEqual([saved]);
    expect(await store.withLock?.('k', 1_000, async () => 42)).toBe(42);
    await store.deleteToken('1');
    expect(await inner.getTokens()).toEqual([]);
  });

  it('offers withLock only when the store does', () => {
    const { withLock: _, ...noLock } = failingStore(() => new Error('x'));
    expect(scrubbingStore(noLock, CLIENT_SECRET).withLock).toBeUndefined();
    expect(typeof scrubbingStore(new MemoryStore(), CLIENT_SECRET).withLock).toBe('function');
  });

  it("turns a foreign error into a TokenStoreError without the call's secrets, keeping a scrubbed copy as cause", async () => {
    const store = scrubbingStore(
      failingStore((given) => {
        const inner = new Error(`socket sent ${REFRESH}`);
        return Object.assign(new TypeError(`bad row ${given?.refreshToken} secret ${CLIENT_SECRET}`, { cause: inner }), { sql: OTHER });
      }),
      CLIENT_SECRET,
    );
    const error = (await rejection(store.saveToken(token))) as TokenStoreError;
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error.reason).toBe('WRITE_FAILED');
    expect(error.message).toBe(`saveToken failed in TokenStore: TypeError: bad row ${redact(OTHER)} secret ${redact(CLIENT_SECRET)}`);
    const cause = error.cause as Error;
    expect(cause.name).toBe('TypeError');
    expect(cause.message).toBe(`bad row ${redact(OTHER)} secret ${redact(CLIENT_SECRET)}`);
    expect(cause.stack).toContain('scrubbing-store.test.ts');
    expect(cause).not.toHaveProperty('sql');
    expect((cause.cause as Error).message).toBe(`socket sent ${redact(REFRESH)}`);
    const everything = [error.message, error.stack, cause.message, cause.stack, (cause.cause as Error).stack].join('\n');
    for (const secret of [REFRESH, OTHER, CLIENT_SECRET]) expect(everything).not.toContain(secret);

    expect(((await rejection(store.findToken(token))) as TokenStoreError).reason).toBe('UNAVAILABLE');
    expect(((await rejection(store.deleteTokens())) as TokenStoreError).reason).toBe('WRITE_FAILED');
    expect(((await rejection(store.withLock!('k', 1_000, async () => 1))) as TokenStoreError).message).toMatch(
      /^withLock failed in TokenStore/,
    );
  });

  it('passes a TokenStoreError of the store through as it is', async () => {
    const own = new TokenStoreError('LOCK_TIMEOUT', 'lock k not taken in 1000 ms');
    const store = scrubbingStore(
      failingStore(() => own),
      CLIENT_SECRET,
    );
    expect(await rejection(store.findTokenById('1'))).toBe(own);
    expect(await rejection(store.withLock!('k', 1_000, async () => 1))).toBe(own);
  });

  it('a thrown non-Error becomes a TokenStoreError naming it, with no cause', async () => {
    const store = scrubbingStore(
      failingStore(() => `boom ${CLIENT_SECRET}`),
      CLIENT_SECRET,
    );
    const error = (await rejection(store.getTokens())) as TokenStoreError;
    expect(error.message).toBe(`getTokens failed in TokenStore: boom ${redact(CLIENT_SECRET)}`);
    expect(error.cause).toBeUndefined();
  });

  it("leaves the errors of withLock's callback untouched: they are the caller's own", async () => {
    const store = scrubbingStore(new MemoryStore(), CLIENT_SECRET);
    const zoho = new ZohoOAuthError('invalid_code', 400, 'Zoho refused the refresh token');
    expect(await rejection(store.withLock!('k', 1_000, async () => Promise.reject(zoho)))).toBe(zoho);
    const plain = new Error(`the callback's own text ${REFRESH}`);
    expect(await rejection(store.withLock!('k', 1_000, async () => Promise.reject(plain)))).toBe(plain);
  });
});
