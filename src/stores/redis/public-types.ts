/**
 * The ioredis types RedisStoreOptions names, written structurally: ioredis is an optional peer, so
 * the published .d.ts must not import it (a TypeScript app without Redis would fail with TS2307).
 * A real ioredis `Redis` or `Cluster` and its option objects fit these (test/package/peer-types.test.ts).
 */

/** An ioredis `Redis` or `Cluster` instance. */
export interface RedisClientLike {
  /** ioredis's connection state ('wait', 'connecting', 'ready', 'end', ...). */
  readonly status: string;
  /** true for a `Cluster`, false for a `Redis`. */
  readonly isCluster: boolean;
}

/** ioredis `RedisOptions` or `ClusterOptions`, handed to ioredis as given. */
export type IoRedisOptions = object;
