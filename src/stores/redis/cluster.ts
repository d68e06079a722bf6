/**
 * Redis Cluster for RedisStore: an ioredis Cluster made from `redis+cluster://h1:7000,h2:7001`
 * (or `rediss+cluster://` for TLS), or one the user hands in. Every key of one store shares a
 * hash tag (layout.ts), so its Lua scripts and pipelines stay in one slot: a store's whole
 * traffic goes to the one master that owns that slot.
 */
import type { Cluster, ClusterOptions, Redis } from 'ioredis';
import { TokenStoreError } from '../../errors.js';
import { loadDriver } from '../driver.js';

export const CLUSTER_PROTOCOLS = new Set(['redis+cluster:', 'rediss+cluster:']);

export interface ClusterNode {
  host: string;
  port: number;
}

/** Whether `client` is an ioredis Cluster (it says so itself). */
export function isCluster(client: unknown): client is Cluster {
  return typeof client === 'object' && client !== null && (client as { isCluster?: unknown }).isCluster === true;
}

/** The seed nodes, user and password of a cluster URL; refuses anything else by name. */
export function parseClusterUrl(url: string): { nodes: ClusterNode[]; username?: string; password?: string; tls: boolean } {
  const match = /^(rediss?\+cluster):\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/.exec(url);
  const fail = () =>
    new TokenStoreError(
      'INVALID_ARGUMENT',
      `Invalid Redis Cluster URL ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@').slice(0, 80))}: expected redis+cluster://host:port,host:port`,
    );
  if (!match) throw fail();
  const [, scheme, auth, hosts] = match;
  const nodes = (hosts ?? '').split(',').map((part) => {
    const node = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(part.trim());
    const port = Number(node?.[2]);
    if (!node?.[1] || !Number.isInteger(port) || port <= 0 || port > 65_535) throw fail();
    return { host: node[1].replace(/^\[|\]$/g, ''), port };
  });
  const [user, password] = auth === undefined ? [] : auth.split(':', 2).map(decodeURIComponent);
  return {
    nodes,
    ...(user ? { username: user } : {}),
    ...(password ? { password } : {}),
    tls: scheme === 'rediss+cluster',
  };
}

/** A Cluster client for the URL, not yet connected; the store uses it through the Redis methods it shares. */
export function openCluster(url: string, redisOptions: ClusterOptions['redisOptions'], clusterOptions: ClusterOptions = {}): Redis {
  const { nodes, username, password, tls } = parseClusterUrl(url);
  const mod = loadDriver<{ Cluster?: new (nodes: ClusterNode[], options: ClusterOptions) => Cluster }>('ioredis', 'RedisStore');
  if (!mod.Cluster) throw new TokenStoreError('UNAVAILABLE', 'RedisStore: the installed "ioredis" package has no Cluster class');
  const cluster = new mod.Cluster(nodes, {
    lazyConnect: true,
    ...clusterOptions,
    redisOptions: {
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(tls ? { tls: {} } : {}),
      ...redisOptions,
    },
  });
  // Cluster and Redis share every command RedisStore sends (EVALSHA, HGETALL, ZRANGE, pipelines).
  return cluster as unknown as Redis;
}

/** Where a cluster is, for messages: its seed nodes, never a password. */
export function clusterAddress(nodes: readonly ClusterNode[]): string {
  return `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}
