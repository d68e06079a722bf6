/**
 * RedisStore on a 3-master Redis Cluster (test/helpers/redis-cluster.ts): the conformance kit,
 * every key of a store in one slot (so no script or pipeline meets CROSSSLOT), a store made from
 * a given ioredis Cluster, openStore's redis+cluster:// URL, and a bulk import.
 */
import { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis.js';
import { parseClusterUrl } from '../../src/stores/redis/cluster.js';
import { openStore } from '../../src/stores/url.js';
import { runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';
import { testCluster } from '../helpers/redis-cluster.js';
import { uniqueName } from '../services.js';

const cluster = await testCluster();
const url = 'url' in cluster ? cluster.url : '';
const skip = 'skip' in cluster ? cluster.skip : null;
if (skip) console.warn(`SKIPPED: Redis Cluster tests: ${skip}`);
afterAll(async () => {
  if ('stop' in cluster) await cluster.stop();
}, 30_000);

const freshPrefix = () => `${uniqueName('zt11c')}:`;

/** The cluster's own client, for looking at keys and slots. */
function adminCluster(): Cluster {
  return new Cluster(parseClusterUrl(url).nodes, { lazyConnect: false });
}

describe.skipIf(skip !== null)('RedisStore on Redis Cluster', () => {
  runTokenStoreConformance({
    name: 'RedisStore (Redis Cluster)',
    create: () => new RedisStore({ url, prefix: freshPrefix() }),
    cleanup: async (store) => {
      await store.deleteTokens();
      await store.close();
    },
  });

  it('keeps every key of a store in one slot, under the prefix as hash tag', async () => {
    const prefix = freshPrefix();
    const store = new RedisStore({ url, prefix });
    const admin = adminCluster();
    try {
      const alice = await store.saveToken(sampleToken('alice'));
      await store.saveToken(sampleToken('bob'));
      await store.withLock('slot-check', 5_000, async () => {
        const slot = await admin.cluster('KEYSLOT', `{${prefix}}`);
        const keys = (await Promise.all(admin.nodes('master').map((node) => node.keys(`{${prefix}}*`)))).flat();
        expect(keys).toEqual(
          expect.arrayContaining([`{${prefix}}ids`, `{${prefix}}indexkeys`, `{${prefix}}token:${alice.id}`, `{${prefix}}lock:slot-check`]),
        );
        // ids, indexkeys, the lock, two tokens and their user name, access and refresh token indexes.
        expect(keys).toHaveLength(3 + 2 + 2 * 3);
        for (const key of keys) expect(await admin.cluster('KEYSLOT', key)).toBe(slot);
      });
      expect(await store.findToken({ userName: 'bob' })).toMatchObject({ id: '2', userName: 'bob' });
    } finally {
      await store.deleteTokens();
      await store.close();
      admin.disconnect();
    }
  });

  it('works on a Cluster instance handed in, and leaves it open on close', async () => {
    const given = adminCluster();
    const store = new RedisStore({ client: given, prefix: freshPrefix() });
    try {
      const saved = await store.saveToken(sampleToken('carol'));
      expect(await store.findTokenById(saved.id)).toEqual(saved);
      await store.deleteTokens();
      await store.close();
      expect(given.status).toBe('ready');
    } finally {
      given.disconnect();
    }
  });

  it('opens from openStore("redis+cluster://...?prefix=") and bulk-imports across the masters', async () => {
    const prefix = freshPrefix();
    const store = (await openStore(`${url}?prefix=${prefix}`)) as RedisStore;
    try {
      expect(store).toBeInstanceOf(RedisStore);
      expect(store.where).toContain('cluster 127.0.0.1:');
      const users = Array.from({ length: 1_200 }, (_, i) => sampleToken(`user${i}@zylker.com`));
      const saved = await store.importTokens(users, 500);
      expect(saved.map((t) => t.id)).toEqual(users.map((_, i) => String(i + 1)));
      expect((await store.getTokens()).length).toBe(1_200);
      expect(await store.findToken({ userName: 'user1199@zylker.com' })).toMatchObject({ id: '1200' });
    } finally {
      await store.deleteTokens();
      await store.close();
    }
  });
});
