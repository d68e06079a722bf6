/**
 * RedisStore's options are typed structurally so the .d.ts needs no ioredis (an optional peer):
 * a real ioredis Redis and Cluster, and their option objects, still fit (checked by tsc here).
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type IoRedisOptions, type RedisClientLike, RedisStore } from '../../src/index.js';

describe('RedisStore option types without ioredis', () => {
  it('an ioredis Redis and Cluster are RedisClientLike, and their options IoRedisOptions', async () => {
    const redis = new Redis({ lazyConnect: true });
    const cluster = new Cluster([], { lazyConnect: true });
    const clients: RedisClientLike[] = [redis, cluster];
    const redisOptions: RedisOptions = { connectionName: 'x' };
    const clusterOptions: ClusterOptions = { scaleReads: 'master' };
    const options: IoRedisOptions[] = [redisOptions, clusterOptions];
    const store = new RedisStore({ client: redis, redisOptions, clusterOptions, prefix: 'pt:' });
    expect(clients.map((c) => c.isCluster)).toEqual([false, true]);
    expect(options).toHaveLength(2);
    expect(store.prefix).toBe('pt:');
    await store.close();
    redis.disconnect();
    cluster.disconnect();
  });
});
