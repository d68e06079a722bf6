import { afterAll, describe, expect, it, vi } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import { RedisStore } from '../../src/stores/redis.js';
import { DELETE_BATCH_SCRIPT } from '../../src/stores/redis/scripts.js';
import { CLIENT, runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';
import { REDIS_URL, serviceAvailable, uniqueName } from '../services.js';
import { caughtStoreError } from '../helpers/errors.js';
import { adminClient, deletePrefix, dumpPrefix, keysUnder, layoutProblems } from './helpers/redis-keys.js';

const available = await serviceAvailable('Redis', REDIS_URL, 'ZTOKEN_REDIS_URL');
const admin = available ? adminClient() : undefined;
afterAll(async () => {
  await admin?.quit();
});

const freshPrefix = () => `${uniqueName('zt')}:`;
const sha = async (value: string) => (await import('node:crypto')).createHash('sha256').update(value).digest('hex');

/** A store on a fresh prefix, its keys removed and its connection closed after the test. */
const opened: RedisStore[] = [];
function openStore(prefix = freshPrefix(), options: ConstructorParameters<typeof RedisStore>[0] = {}): RedisStore {
  const store = new RedisStore({ url: REDIS_URL, prefix, ...options });
  opened.push(store);
  return store;
}
afterAll(async () => {
  for (const store of opened.splice(0)) {
    if (admin) await deletePrefix(admin, store.prefix);
    await store.close();
  }
});

describe.skipIf(!available)('RedisStore', () => {
  runTokenStoreConformance({
    name: 'RedisStore',
    create: () => new RedisStore({ url: REDIS_URL, prefix: freshPrefix() }),
    cleanup: async (store) => {
      const redis = store as RedisStore;
      if (admin) await deletePrefix(admin, redis.prefix);
      await redis.close();
    },
    raw: (store) => dumpPrefix(admin!, (store as RedisStore).prefix),
  });

  describe('key layout', () => {
    it("keeps one hash per token with Zoho's column names, absent fields not stored", async () => {
      const store = openStore();
      const p = store.prefix;
      await store.saveToken(sampleToken('alice@zylker.com', { expiryTime: 1767225600001 }));
      await store.saveToken({ ...CLIENT, grantToken: '1000.grant.nameless' });
      expect(await admin!.hgetall(`${p}token:1`)).toEqual({
        id: '1',
        user_name: 'alice@zylker.com',
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        refresh_token: '1000.refresh.alice@zylker.com.aaaabbbbccccdddd',
        access_token: '1000.access.alice@zylker.com.eeeeffff00001111',
        expiry_time: '1767225600001',
        redirect_url: 'https://app.example.com/callback',
        api_domain: 'https://www.zohoapis.com',
      });
      expect(await admin!.hgetall(`${p}token:2`)).toEqual({
        id: '2',
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        grant_token: '1000.grant.nameless',
      });
      expect(await keysUnder(admin!, p)).toEqual(
        [
          `${p}ids`,
          `${p}indexkeys`,
          `${p}token:1`,
          `${p}token:2`,
          `${p}idx:user_name:${await sha('alice@zylker.com')}`,
          `${p}idx:access_token:${await sha('1000.access.alice@zylker.com.eeeeffff00001111')}`,
          `${p}idx:refresh_token:${await sha('1000.refresh.alice@zylker.com.aaaabbbbccccdddd')}`,
          `${p}idx:grant_token:${await sha('1000.grant.nameless')}`,
        ].sort(),
      );
      expect(await admin!.zrange(`${p}ids`, '0', '-1')).toEqual(['1', '2']);
      expect((await layoutProblems(admin!, p)).problems).toEqual([]);
    });

    it('an update that changes the access token leaves no dangling index entry', async () => {
      const store = openStore();
      const p = store.prefix;
      await store.saveToken(sampleToken('alice', { accessToken: '1000.access.old' }));
      await store.saveToken(sampleToken('alice', { accessToken: '1000.access.new', grantToken: '1000.grant.g' }));
      expect(await admin!.exists(`${p}idx:access_token:${await sha('1000.access.old')}`)).toBe(0);
      expect(await admin!.zrange(`${p}idx:access_token:${await sha('1000.access.new')}`, '0', '-1')).toEqual(['1']);
      expect(await store.findToken({ accessToken: '1000.access.old' })).toBeNull();
      // Saving without the grant token drops it from the hash and from its index.
      await store.saveToken(sampleToken('alice', { accessToken: '1000.access.new' }));
      expect(await admin!.hexists(`${p}token:1`, 'grant_token')).toBe(0);
      expect(await admin!.exists(`${p}idx:grant_token:${await sha('1000.grant.g')}`)).toBe(0);
      expect((await layoutProblems(admin!, p)).problems).toEqual([]);
    });

    it('delete removes the hash and every index entry; the last delete leaves no key at all', async () => {
      const store = openStore();
      const p = store.prefix;
      await store.saveToken(sampleToken('alice', { grantToken: '1000.grant.alice' }));
      await store.saveToken(sampleToken('bob'));
      await store.deleteToken('1');
      const { problems, tokens } = await layoutProblems(admin!, p);
      expect(problems).toEqual([]);
      expect([...tokens.keys()]).toEqual(['2']);
      expect((await keysUnder(admin!, p)).filter((k) => k.includes('alice') || k.endsWith('token:1'))).toEqual([]);
      await store.deleteToken('2');
      expect(await keysUnder(admin!, p)).toEqual([]);
    });

    it("deleteTokens removes only this prefix's token keys (locks and other keys stay)", async () => {
      const store = openStore();
      const p = store.prefix;
      const neighbour = `${p.slice(0, -1)}x:untouched`;
      await admin!.set(neighbour, 'keep');
      await admin!.set(`other:${p}token:1`, 'keep');
      for (let i = 0; i < 30; i++) await store.saveToken(sampleToken(`user${i}`));
      await store.withLock('held', 10_000, async () => {
        await store.deleteTokens();
        expect(await keysUnder(admin!, p)).toEqual([`${p}lock:held`]);
      });
      expect(await admin!.get(neighbour)).toBe('keep');
      expect(await admin!.get(`other:${p}token:1`)).toBe('keep');
      await admin!.del(neighbour, `other:${p}token:1`);
      expect((await store.saveToken(sampleToken('again'))).id).toBe('1');
    });

    it('deleteTokens deletes in batches of 500, each token whole, until nothing of the store is left', async () => {
      const store = openStore();
      const p = store.prefix;
      // 1,234 tokens; pairs of users share one grant token, so some index keys hold two ids.
      await store.importTokens(
        Array.from({ length: 1_234 }, (_, i) => ({ ...sampleToken(`user${i}`), id: String(i + 1), grantToken: `grant-${i >> 1}` })),
      );
      expect(await admin!.zcard(`${p}ids`)).toBe(1_234);
      const batches = vi.spyOn(DELETE_BATCH_SCRIPT, 'run');
      try {
        await store.deleteTokens();
        // 500 + 500 + 234, then an empty batch that ends the loop.
        expect(await Promise.all(batches.mock.results.map((r) => r.value))).toEqual([500, 500, 234, 0]);
      } finally {
        batches.mockRestore();
      }
      expect(await keysUnder(admin!, p)).toEqual([]);
      expect((await store.saveToken(sampleToken('again'))).id).toBe('1');
    });

    it('hashes long and hostile values into short key names', async () => {
      const store = openStore();
      const hostile = ['x'.repeat(4000), 'a*b?[c]\\{tag}', 'line1\nline2', ' spaced ', 'Zoë 日本語 🚀', `${store.prefix}token:1`];
      for (const [i, value] of hostile.entries()) {
        await store.saveToken({ userName: value, accessToken: `${value}-access`, ...CLIENT, refreshToken: `${value}-refresh-${i}` });
      }
      for (const value of hostile) {
        expect((await store.findToken({ userName: value }))?.userName).toBe(value);
        expect((await store.findToken({ accessToken: `${value}-access` }))?.userName).toBe(value);
      }
      const keys = await keysUnder(admin!, store.prefix);
      expect(Math.max(...keys.map((k) => k.length))).toBeLessThanOrEqual(store.prefix.length + 'idx:refresh_token:'.length + 64);
      expect(keys.every((k) => /^[\x21-\x7e]+$/.test(k))).toBe(true);
      expect((await layoutProblems(admin!, store.prefix)).problems).toEqual([]);
    });

    it('when several tokens share a value, the lowest id wins (numerically, then non-numeric ids)', async () => {
      const store = openStore();
      for (const id of ['x', '10', '9', '100']) await store.saveToken({ id, userName: `u${id}`, accessToken: '1000.access.shared' });
      expect((await store.findToken({ accessToken: '1000.access.shared' }))?.id).toBe('9');
      await store.deleteToken('9');
      expect((await store.findToken({ accessToken: '1000.access.shared' }))?.id).toBe('10');
      await store.deleteToken('10');
      await store.deleteToken('100');
      expect((await store.findToken({ accessToken: '1000.access.shared' }))?.id).toBe('x');
      // New ids follow the largest numeric id even with a non-numeric one present.
      expect((await store.saveToken(sampleToken('new'))).id).toBe('1');
    });

    it('refuses a new id past ten digits without writing anything', async () => {
      const store = openStore();
      await store.saveToken(sampleToken('top', { id: '9999999999' }));
      await expect(store.saveToken(sampleToken('one-more'))).rejects.toMatchObject({ reason: 'WRITE_FAILED' });
      expect((await store.getTokens()).map((t) => t.id)).toEqual(['9999999999']);
      expect((await layoutProblems(admin!, store.prefix)).problems).toEqual([]);
    });

    it('the layout check used by the crash test catches a dangling entry and a missing index', async () => {
      const store = openStore();
      const p = store.prefix;
      await store.saveToken(sampleToken('alice'));
      await admin!.zadd(`${p}idx:user_name:${await sha('alice')}`, 5, '5');
      await admin!.zrem(`${p}idx:access_token:${await sha('1000.access.alice.eeeeffff00001111')}`, '1');
      const { problems } = await layoutProblems(admin!, p);
      expect(problems.some((x) => x.includes('dangling entry 5'))).toBe(true);
      expect(problems.some((x) => x.includes('not indexed by access_token'))).toBe(true);
    });

    it('importTokens saves in order with the rules of saveToken', async () => {
      const store = openStore();
      const tokens = [
        sampleToken('a'),
        sampleToken('b'),
        sampleToken('a', { accessToken: '1000.access.a2' }),
        sampleToken('c', { id: '7' }),
        sampleToken('d'),
      ];
      const saved = await store.importTokens(tokens, 2);
      expect(saved.map((t) => t.id)).toEqual(['1', '2', '1', '7', '8']);
      expect((await store.getTokens()).map((t) => [t.id, t.userName, t.accessToken?.slice(0, 14)])).toEqual([
        ['1', 'a', '1000.access.a2'],
        ['2', 'b', '1000.access.b.'],
        ['7', 'c', '1000.access.c.'],
        ['8', 'd', '1000.access.d.'],
      ]);
      expect((await layoutProblems(admin!, store.prefix)).problems).toEqual([]);
    });
  });

  describe('locks and errors', () => {
    it('withLock is a SET NX PX key under the prefix, with a ttl, gone after release', async () => {
      const store = openStore();
      const key = `${store.prefix}lock:refresh:alice`;
      await store.withLock('refresh:alice', 5_000, async () => {
        const ttl = await admin!.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(5_000);
        // Someone else's value under the key: ours is not released by a stranger, theirs not by us.
        expect(await admin!.set(key, 'intruder', 'PX', 5_000, 'NX')).toBeNull();
      });
      expect(await admin!.exists(key)).toBe(0);
    });

    it('a lock key Redis cannot use fails withLock at once as UNAVAILABLE, not as a LOCK_TIMEOUT after the wait', async () => {
      const store = openStore();
      await admin!.hset(`${store.prefix}lock:broken`, 'not', 'a lock');
      let ran = false;
      const started = Date.now();
      const error = await caughtStoreError(
        store.withLock('broken', 5_000, async () => {
          ran = true;
        }),
      );
      expect(error.reason).toBe('UNAVAILABLE');
      expect(error.message).toContain('WRONGTYPE');
      expect(ran).toBe(false);
      // LOCK_TIMEOUT would come only after the wait (at least 5 s for this ttl).
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(await admin!.hget(`${store.prefix}lock:broken`, 'not')).toBe('a lock');
    });

    it('an acquire whose reply is lost is retried and finds the lock it took: no wait for its own ttl', async () => {
      const client = adminClient();
      const prefix = freshPrefix();
      const lockKey = `${prefix}lock:lost-reply`;
      // The real command runs on the server; only its reply is lost, as when a connection drops.
      const send = client.sendCommand.bind(client) as (command: { args: unknown[] }, ...rest: unknown[]) => Promise<unknown>;
      let lost = 0;
      (client as unknown as { sendCommand: typeof send }).sendCommand = (command, ...rest) => {
        const reply = send(command, ...rest);
        if (lost > 0 || !command.args.includes(lockKey)) return reply;
        return reply.then(() => {
          lost++;
          throw new Error('Connection is closed.');
        });
      };
      const store = new RedisStore({ client, prefix });
      try {
        const started = Date.now();
        const result = await store.withLock('lost-reply', 3_000, async () => {
          expect(await admin!.pttl(lockKey)).toBeGreaterThan(2_000);
          return 'ran';
        });
        expect(result).toBe('ran');
        expect(lost).toBe(1);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(await admin!.exists(lockKey)).toBe(0);
      } finally {
        await store.close();
        await deletePrefix(client, prefix);
        await client.quit();
      }
    });

    it('a Redis error fails the call naming where, with no secret in the message or cause, and writes nothing', async () => {
      const store = openStore();
      await store.saveToken(sampleToken('alice'));
      await admin!.del(`${store.prefix}ids`);
      await admin!.set(`${store.prefix}ids`, 'not a sorted set');
      const secret = '1000.refresh.very-secret-value-0123456789';
      const error = await store.saveToken(sampleToken('bob', { refreshToken: secret })).then(
        () => undefined,
        (e: unknown) => e as TokenStoreError,
      );
      expect(error).toBeInstanceOf(TokenStoreError);
      expect(error?.reason).toBe('WRITE_FAILED');
      expect(error?.message).toContain('WRONGTYPE');
      expect(error?.message).toContain(store.where);
      const everything = JSON.stringify({
        message: error?.message,
        cause: error?.cause,
        causeMessage: (error?.cause as Error)?.message,
        own: { ...(error?.cause as object) },
      });
      expect(everything).not.toContain(secret);
      expect((error?.cause as { command?: unknown } | undefined)?.command).toBeUndefined();
      expect(await admin!.exists(`${store.prefix}token:2`)).toBe(0);
      expect(await admin!.hget(`${store.prefix}token:1`, 'user_name')).toBe('alice');
    });
  });

  describe('prefixes', () => {
    it('two stores with different prefixes on one server do not see each other', async () => {
      const a = openStore();
      const b = openStore();
      await a.saveToken(sampleToken('alice', { accessToken: '1000.access.in-a' }));
      await b.saveToken(sampleToken('alice', { accessToken: '1000.access.in-b' }));
      await b.saveToken(sampleToken('bob'));
      expect((await a.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.in-a');
      expect((await b.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.in-b');
      expect(await a.findToken({ userName: 'bob' })).toBeNull();
      expect(await a.findToken({ accessToken: '1000.access.in-b' })).toBeNull();
      await a.deleteTokens();
      expect(await a.getTokens()).toEqual([]);
      expect((await b.getTokens()).map((t) => t.userName)).toEqual(['alice', 'bob']);
    });

    it('uses zoho: by default', () => {
      const store = new RedisStore({ url: REDIS_URL });
      expect(store.prefix).toBe('zoho:');
      expect(store.keys.token('1')).toBe('zoho:token:1');
      return store.close();
    });

    it('rejects hostile or malformed prefixes before connecting', () => {
      for (const prefix of ['', 'a'.repeat(65), 'zoho:*', 'zo?o', 'a b', 'line\n', '{tag}:', 'zoé:', '[x]', 42]) {
        let caught: unknown;
        try {
          new RedisStore({ url: REDIS_URL, prefix: prefix as string });
        } catch (error) {
          caught = error;
        }
        expect(caught, String(prefix)).toBeInstanceOf(TokenStoreError);
        expect((caught as TokenStoreError).reason).toBe('INVALID_ARGUMENT');
        expect((caught as Error).message).toContain('prefix');
      }
      expect(new RedisStore({ url: REDIS_URL, prefix: 'a'.repeat(64) }).prefix).toHaveLength(64);
    });

    it('rejects a URL that is not redis:// without echoing its password', () => {
      expect(() => new RedisStore({ url: 'http://user:hunter2secret@127.0.0.1:6379' })).toThrow(/Invalid Redis URL/);
      try {
        new RedisStore({ url: 'http://user:hunter2secret@127.0.0.1:6379' });
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2secret');
      }
      expect(() => new RedisStore({ url: 'not a url' })).toThrow(TokenStoreError);
      expect(() => new RedisStore({ connectTimeoutMs: -1 })).toThrow(/connectTimeoutMs/);
    });
  });

  describe('a client handed in', () => {
    it('is used as is and left open by close()', async () => {
      const client = adminClient();
      const prefix = freshPrefix();
      const store = new RedisStore({ client, prefix });
      await store.saveToken(sampleToken('alice'));
      await store.close();
      expect(await client.hget(`${prefix}token:1`, 'user_name')).toBe('alice');
      await deletePrefix(client, prefix);
      await client.quit();
      await expect(store.getTokens()).rejects.toMatchObject({ reason: 'CLOSED' });
    });

    it('is refused when it has an ioredis keyPrefix (the scripts build key names themselves)', async () => {
      const client = adminClient();
      client.options.keyPrefix = 'other:';
      expect(() => new RedisStore({ client })).toThrow(/keyPrefix/);
      expect(() => new RedisStore({ url: REDIS_URL, redisOptions: { keyPrefix: 'x:' } })).toThrow(/keyPrefix/);
      await client.quit();
    });
  });

  describe('connection trouble', () => {
    it('a killed connection (CLIENT KILL) is reopened by the next call', async () => {
      const name = uniqueName('ztkill');
      const store = openStore(freshPrefix(), { redisOptions: { connectionName: name } });
      await store.saveToken(sampleToken('alice'));
      for (let round = 0; round < 3; round++) {
        const list = (await admin!.client('LIST')) as string;
        const line = list.split('\n').find((l) => l.includes(`name=${name}`));
        const id = /id=(\d+)/.exec(line ?? '')?.[1];
        expect(id, 'the store has a connection').toBeDefined();
        expect(await admin!.client('KILL', 'ID', id!)).toBe(1);
        const saved = await store.saveToken(sampleToken('alice', { accessToken: `1000.access.after-kill-${round}` }));
        expect(saved.id).toBe('1');
        expect((await store.findToken({ userName: 'alice' }))?.accessToken).toBe(`1000.access.after-kill-${round}`);
      }
    });
  });
});
