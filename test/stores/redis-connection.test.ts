// RedisStore when the server is not there: down at start, restarted mid-run. Uses a closed port
// and a private redis-server, never the shared one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import { RedisStore } from '../../src/stores/redis.js';
import { sampleToken } from '../../src/testing/index.js';
import { freePort, hasRedisServer, PrivateRedis } from './helpers/redis-server.js';

async function failure(promise: Promise<unknown>): Promise<TokenStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenStoreError);
  return error as TokenStoreError;
}

describe('RedisStore with no server', () => {
  it('fails every call within the connect timeout, naming host and port and no password', async () => {
    const port = await freePort();
    const store = new RedisStore({ url: `redis://:hunter2-very-secret@127.0.0.1:${port}/0`, connectTimeoutMs: 400 });
    const started = Date.now();
    const calls = [
      store.getTokens(),
      store.findToken({ userName: 'alice' }),
      store.findTokenById('1'),
      store.saveToken(sampleToken('alice', { refreshToken: '1000.refresh.secret-value-123456' })),
      store.deleteToken('1'),
      store.deleteTokens(),
      store.withLock('k', 1_000, async () => 1),
    ];
    for (const call of calls) {
      const error = await failure(call);
      expect(error.reason).toBe('UNAVAILABLE');
      expect(error.message).toContain(`127.0.0.1:${port}`);
      expect(error.message).not.toContain('hunter2');
      expect(error.message).not.toContain('secret-value');
      expect(String((error.cause as Error | undefined)?.message ?? '')).not.toContain('hunter2');
    }
    // Bounded: the calls ran in parallel, each waiting at most connectTimeoutMs (generous margin).
    expect(Date.now() - started).toBeLessThan(5_000);
    await store.close();
    await expect(store.getTokens()).rejects.toMatchObject({ reason: 'CLOSED' });
  });
});

describe.skipIf(!hasRedisServer)('RedisStore when the server restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-redis-'));
  const servers: PrivateRedis[] = [];
  afterAll(async () => {
    for (const server of servers) await server.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails while it is down, then the next call reconnects and succeeds', async () => {
    const server = new PrivateRedis(await freePort(), dir);
    servers.push(server);
    await server.start();
    const store = new RedisStore({ url: server.url, connectTimeoutMs: 1_500, prefix: 'restart:' });
    await store.saveToken(sampleToken('alice'));
    expect((await store.findToken({ userName: 'alice' }))?.id).toBe('1');

    await server.kill();
    const error = await failure(store.findToken({ userName: 'alice' }));
    expect(error.reason).toBe('UNAVAILABLE');
    expect(error.message).toContain(`127.0.0.1:${server.port}`);

    await server.start();
    // The restarted server has an empty script cache: EVALSHA falls back to EVAL.
    expect((await store.findToken({ userName: 'alice' }))?.id).toBe('1');
    expect((await store.saveToken(sampleToken('bob'))).id).toBe('2');
    expect((await store.getTokens()).map((t) => t.userName)).toEqual(['alice', 'bob']);

    // A call made while the server is down waits for it (within connectTimeoutMs).
    await server.kill();
    const pending = store.saveToken(sampleToken('carol'));
    await new Promise((r) => setTimeout(r, 300));
    await server.start();
    expect((await pending).id).toBe('3');
    await store.close();
    await server.kill();
  }, 30_000);
});
