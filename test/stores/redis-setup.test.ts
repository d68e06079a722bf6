// RedisStore when the server refuses a connection-setup step (SELECT of a db it lacks, AUTH):
// the open fails, and a reconnect whose re-select is refused stops the store instead of going on
// in db 0. Real Redis (16 dbs); the ACL user these tests make is unique and deleted at the end.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis.js';
import { openStore } from '../../src/stores/url.js';
import { sampleToken } from '../../src/testing/index.js';
import { REDIS_URL, serviceAvailable, uniqueName } from '../services.js';

const available = await serviceAvailable('Redis', REDIS_URL, 'ZTOKEN_REDIS_URL');

describe.skipIf(!available)('RedisStore setup failures', () => {
  const admin = new Redis(REDIS_URL);
  const user = `ztoken14-${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  /** Prefixes the tests used: their keys are deleted from db 0 and db 7 whatever the outcome. */
  const prefixes: string[] = [];
  const fresh = (name: string) => {
    const prefix = `${uniqueName(name)}:`;
    prefixes.push(prefix);
    return prefix;
  };
  afterAll(async () => {
    await admin.call('ACL', 'DELUSER', user).catch(() => undefined);
    for (const db of ['0', '7']) {
      await admin.select(Number(db));
      for (const prefix of prefixes) {
        const keys = await admin.keys(`${prefix}*`);
        if (keys.length > 0) await admin.del(keys);
      }
    }
    admin.disconnect();
  });

  it('a db index the server lacks fails the open, and nothing is written to db 0', async () => {
    const prefix = fresh('i14sel');
    const base = new URL(REDIS_URL);
    const url = `redis://${base.host}/99?prefix=${prefix}`;
    const error = await openStore(url).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/refused SELECT 99 .*DB index is out of range.*store stopped/);
    const store = new RedisStore({ url: `redis://${base.host}/99`, prefix });
    await expect(store.saveToken(sampleToken('alice'))).rejects.toMatchObject({ reason: 'UNAVAILABLE', message: /SELECT 99/ });
    await expect(store.getTokens()).rejects.toThrow(/SELECT 99/);
    await store.close();
    expect(await admin.keys(`${prefix}*`)).toEqual([]);
  });

  it('a refused AUTH fails the open at once instead of retrying until the timeout', async () => {
    const base = new URL(REDIS_URL);
    const store = new RedisStore({ url: `redis://${user}-absent:${password}@${base.host}/0`, connectTimeoutMs: 4_000 });
    const started = Date.now();
    const error = await store.connect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/refused AUTH .*WRONGPASS/);
    expect(error?.message).not.toContain(password);
    expect(Date.now() - started).toBeLessThan(3_000);
    await store.close();
  });

  it('after a reconnect, a refused re-select stops the store instead of writing to db 0', async () => {
    await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all');
    const prefix = fresh('i14re');
    const base = new URL(REDIS_URL);
    const store = new RedisStore({ url: `redis://${user}:${password}@${base.host}/7`, prefix, connectTimeoutMs: 2_000 });
    await store.saveToken(sampleToken('alice'));
    const db7 = new Redis(`${REDIS_URL}/7`);
    expect(await db7.exists(`${prefix}ids`)).toBe(1);
    // The user may no longer SELECT: a new connection of the store cannot reach db 7.
    await admin.call('ACL', 'SETUSER', user, '-select');
    await admin.call('CLIENT', 'KILL', 'USER', user);
    const error = await store.saveToken(sampleToken('bob')).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/refused SELECT 7 .*store stopped/);
    await expect(store.findToken({ userName: 'alice' })).rejects.toThrow(/SELECT 7/);
    await store.close();
    expect(await admin.keys(`${prefix}*`)).toEqual([]);
    expect(await db7.zrange(`${prefix}ids`, '0', '-1')).toEqual(['1']);
    db7.disconnect();
  });
});
