/**
 * RedisStore: tokens in Redis (ioredis 5 or 6, loaded only when a RedisStore is made), one hash
 * per token with Zoho's column names, an index per lookup field, all under one key prefix (see
 * redis/layout.ts). save and delete are Lua scripts, and deleteTokens runs one per batch of
 * tokens, so processes sharing the server never duplicate a token and a crash never leaves half a
 * token; findToken is one round trip.
 * withLock is `SET NX PX` with an owner (a retry that finds its own owner holds the lock),
 * released by compare-and-delete.
 */
import type { ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { TokenStoreError } from '../errors.js';
import { checkReauthMark, inTokenIdOrder, type ReauthMark, readReauthMark, warnMalformedReauthMark } from '../reauth-marks.js';
import type { ReauthMarkStore, TokenStore } from '../store.js';
import {
  COLUMN_OF,
  compareIds,
  lookupRuleOf,
  MAX_LAYOUT_ID_LENGTH,
  matchRule,
  nextIdAfter,
  normalizeTokenForSave,
  type OAuthToken,
  type StoredToken,
  secretsOf,
  TOKEN_FIELDS,
  type TokenField,
  tokenToStore,
  validateId,
} from '../token.js';
import { ClosedGuard } from './closed.js';
import { acquireWithRetry, newLockOwner, validateLockArgs } from './lock.js';
import { hashPairs, hashToToken, indexKeysOf } from './redis/codec.js';
import { CLUSTER_PROTOCOLS, clusterAddress, isCluster, openCluster, parseClusterUrl } from './redis/cluster.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, RedisConnection } from './redis/connection.js';
import { DEFAULT_PREFIX, idScore, MAX_NUMERIC_ID, RedisKeyLayout } from './redis/layout.js';
import type { IoRedisOptions, RedisClientLike } from './redis/public-types.js';
import { ACQUIRE_LOCK_SCRIPT, DELETE_BATCH_SCRIPT, DELETE_SCRIPT, FIND_SCRIPT, RELEASE_LOCK_SCRIPT, SAVE_SCRIPT } from './redis/scripts.js';
import type { StoreUrl } from './url-params.js';
import { openNow } from './open-now.js';

export interface RedisStoreOptions {
  /**
   * Server URL, `redis://[user:password@]host:port/db` or `rediss://...`, or a Redis Cluster's seed
   * nodes, `redis+cluster://[user:password@]h1:7000,h2:7001` (`rediss+cluster://` for TLS).
   * Default 'redis://127.0.0.1:6379'.
   */
  url?: string;
  /** Prefix of every key: 1 to 64 letters, digits or `:_-.`. Default 'zoho:'. On a cluster it is the keys' hash tag. */
  prefix?: string;
  /** An ioredis client (Redis or Cluster) to use instead of opening one; close() then leaves it open. */
  client?: RedisClientLike;
  /** Extra ioredis Cluster options for the cluster the store opens from a `redis+cluster://` URL. */
  clusterOptions?: IoRedisOptions;
  /** How long a call waits for a (re)connection before failing with UNAVAILABLE. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** How long one command may take (clients the store opens). Default 10000 ms. */
  commandTimeoutMs?: number;
  /** Extra ioredis options for the client the store opens (e.g. tls, connectionName). */
  redisOptions?: IoRedisOptions;
  /**
   * false: connect() (which openStore calls) fails with NOT_FOUND when the prefix holds no token.
   * Redis keeps no empty store, so "exists" means at least one token under the prefix. Default true.
   */
  create?: boolean;
}

type Reason = 'UNAVAILABLE' | 'WRITE_FAILED' | 'LOCK_TIMEOUT';

/** Each field's 1-based position in Zoho's column order, as the find script's row has it. */
const COLUMN_POSITION = Object.fromEntries(TOKEN_FIELDS.map((field, i) => [field, i + 1])) as Record<TokenField, number>;

/** Tokens read per pipeline in getTokens. */
const READ_BATCH = 500;
/** Tokens deleted per deleteTokens script: a few ms of server time each. */
const DELETE_BATCH = 500;

const protocolOf = (url: string) => /^[a-z+]+:/i.exec(url)?.[0].toLowerCase() ?? '';

export class RedisStore implements TokenStore, ReauthMarkStore {
  readonly prefix: string;
  readonly keys: RedisKeyLayout;
  /** Where the tokens are, for messages: host:port and prefix, never a password. */
  readonly where: string;
  private readonly connection: RedisConnection;
  private readonly guard = new ClosedGuard('RedisStore');
  private readonly create: boolean;

  constructor(options: RedisStoreOptions = {}) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    const fromUrl = options.client === undefined && options.url !== undefined && CLUSTER_PROTOCOLS.has(protocolOf(options.url));
    const cluster = fromUrl || isCluster(options.client);
    this.keys = new RedisKeyLayout(this.prefix, { hashTag: cluster });
    const { client, ...rest } = options;
    this.connection = new RedisConnection({
      ...rest,
      ...(fromUrl && options.url
        ? {
            client: openCluster(
              options.url,
              {
                connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
                commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
                maxRetriesPerRequest: 1,
                ...(options.redisOptions as RedisOptions | undefined),
              },
              options.clusterOptions as ClusterOptions | undefined,
            ),
            ownsClient: true,
            address: clusterAddress(parseClusterUrl(options.url).nodes),
          }
        : client === undefined
          ? {}
          : { client: client as Redis, ...(cluster ? { address: 'a Redis Cluster' } : {}) }),
    });
    this.create = options.create ?? true;
    this.where = `Redis at ${this.connection.address}, prefix "${this.prefix}"`;
  }

  /**
   * Connects now instead of at the first call (openStore does): a server that refuses the URL's
   * db index or password fails here, with what it refused; so does an empty prefix when the
   * store may not create one (`create: false`).
   */
  async connect(): Promise<void> {
    this.guard.check();
    const found = await this.call('connect', 'UNAVAILABLE', [], (client) => client.exists(this.keys.ids));
    if (!this.create && found === 0) {
      throw new TokenStoreError('NOT_FOUND', `No tokens in ${this.where}: opened with create: false, and Redis keeps no empty store`);
    }
  }

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    this.guard.check();
    const rule = lookupRuleOf(partial);
    if (!rule) return null;
    const indexKey = this.keys.index(rule.field, rule.value);
    const row = await this.call('findToken', 'UNAVAILABLE', [rule.value], (client) =>
      FIND_SCRIPT.run(client, [indexKey], [this.keys.tokenPrefix, COLUMN_POSITION[rule.field], rule.value]),
    );
    return row ? hashToToken(row as (string | null)[], this.where) : null;
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    this.guard.check();
    const key = this.keys.token(validateId(id));
    const hash = await this.call('findTokenById', 'UNAVAILABLE', [], (client) => client.hgetall(key));
    return Object.keys(hash).length === 0 ? null : hashToToken(hash, `${this.where}, key ${key}`);
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.guard.check();
    const token = normalizeTokenForSave(input);
    const args = this.saveArgs(token);
    const reply = await this.call('saveToken', 'WRITE_FAILED', secretsOf(token), (client) =>
      SAVE_SCRIPT.run(client, [this.keys.ids, this.keys.indexKeys], args),
    );
    return tokenToStore(token, this.savedId(reply));
  }

  /**
   * Saves many tokens in order, with the rules of saveToken (each one atomic), pipelined in
   * batches: the way to import or bulk-load. Resolves to the tokens as stored. Every token is
   * checked before anything is sent; if a save still fails, the others sent with it may be saved.
   */
  async importTokens(inputs: readonly OAuthToken[], batchSize = 1_000): Promise<StoredToken[]> {
    this.guard.check();
    const tokens = inputs.map((input) => normalizeTokenForSave(input));
    const secrets = tokens.flatMap(secretsOf);
    const saved: StoredToken[] = [];
    await this.call('importTokens', 'WRITE_FAILED', secrets, async (client) => {
      await SAVE_SCRIPT.load(client);
      for (let start = 0; start < tokens.length; start += batchSize) {
        const batch = tokens.slice(start, start + batchSize);
        const pipeline = client.pipeline();
        for (const token of batch) SAVE_SCRIPT.queue(pipeline, [this.keys.ids, this.keys.indexKeys], this.saveArgs(token));
        const results = (await pipeline.exec()) ?? [];
        batch.forEach((token, i) => {
          const [error, reply] = results[i] ?? [new Error('no reply')];
          if (error) throw error;
          saved.push(tokenToStore(token, this.savedId(reply)));
        });
      }
    });
    return saved;
  }

  async deleteToken(id: string): Promise<void> {
    this.guard.check();
    const valid = validateId(id);
    await this.call('deleteToken', 'WRITE_FAILED', [], (client) =>
      DELETE_SCRIPT.run(client, [this.keys.ids, this.keys.indexKeys], [this.keys.tokenPrefix, valid]),
    );
  }

  async getTokens(): Promise<StoredToken[]> {
    this.guard.check();
    const tokens = await this.call('getTokens', 'UNAVAILABLE', [], async (client) => {
      const ids = await client.zrange(this.keys.ids, '0', '-1');
      const out: StoredToken[] = [];
      for (let start = 0; start < ids.length; start += READ_BATCH) {
        const pipeline = client.pipeline();
        for (const id of ids.slice(start, start + READ_BATCH)) pipeline.hgetall(this.keys.token(id));
        for (const [error, hash] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          // A token deleted since ZRANGE reads as an empty hash: it is gone, skip it.
          if (hash && Object.keys(hash).length > 0) out.push(hashToToken(hash as Record<string, string>, this.where));
        }
      }
      return out;
    });
    // Redis orders ids bytewise; compareIds is the one rule (numeric ids first, numerically).
    return tokens.sort((a, b) => compareIds(a.id, b.id));
  }

  /**
   * Deletes every token in batches of DELETE_BATCH (each batch one script: every token whole or
   * gone), so other clients of the server wait at most one batch. A token saved meanwhile is
   * deleted too if its id comes up before the store is empty.
   */
  async deleteTokens(): Promise<void> {
    this.guard.check();
    const keys = [this.keys.ids, this.keys.indexKeys];
    const args = [this.keys.tokenPrefix, String(DELETE_BATCH)];
    let deleted: number;
    do {
      deleted = Number(await this.call('deleteTokens', 'WRITE_FAILED', [], (client) => DELETE_BATCH_SCRIPT.run(client, keys, args)));
    } while (deleted > 0);
  }

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    this.guard.check();
    validateLockArgs(key, ttlMs);
    const owner = newLockOwner();
    const lockKey = this.keys.lock(key);
    const px = Math.max(1, Math.ceil(ttlMs));
    await acquireWithRetry(
      () =>
        this.call('withLock', 'UNAVAILABLE', [], async (client) => (await ACQUIRE_LOCK_SCRIPT.run(client, [lockKey], [owner, px])) === 1),
      key,
      ttlMs,
      this.where,
    );
    try {
      return await fn();
    } finally {
      // A failed release is harmless: the lock expires after its ttl. Never mask fn's outcome.
      await this.call('withLock', 'WRITE_FAILED', [], (client) => RELEASE_LOCK_SCRIPT.run(client, [lockKey], [owner])).catch(
        () => undefined,
      );
    }
  }

  /** ReauthMarkStore: one field per token in the hash `<prefix>reauthmarks`, the mark as JSON. */
  async setReauthMark(mark: ReauthMark): Promise<void> {
    this.guard.check();
    const clean = checkReauthMark(mark);
    await this.call('setReauthMark', 'WRITE_FAILED', [], (client) =>
      client.hset(this.keys.reauthMarks, clean.tokenId, JSON.stringify(clean)),
    );
  }

  async getReauthMark(tokenId: string): Promise<ReauthMark | null> {
    this.guard.check();
    const id = validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH);
    const text = await this.call('getReauthMark', 'UNAVAILABLE', [], (client) => client.hget(this.keys.reauthMarks, id));
    return text === null ? null : this.readMark(id, text);
  }

  async getReauthMarks(): Promise<ReauthMark[]> {
    this.guard.check();
    const all = await this.call('getReauthMarks', 'UNAVAILABLE', [], (client) => client.hgetall(this.keys.reauthMarks));
    return inTokenIdOrder(
      Object.entries(all)
        .map(([id, text]) => this.readMark(id, text))
        .filter((mark): mark is ReauthMark => mark !== null),
    );
  }

  async clearReauthMark(tokenId: string): Promise<void> {
    this.guard.check();
    const id = validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH);
    await this.call('clearReauthMark', 'WRITE_FAILED', [], (client) => client.hdel(this.keys.reauthMarks, id));
  }

  /** A field of the marks hash as a mark: JSON naming the field's own token, or skipped with a warning. */
  private readMark(field: string, text: string): ReauthMark | null {
    const where = `${this.where}, key ${this.keys.reauthMarks}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      warnMalformedReauthMark(where, 'not JSON');
      return null;
    }
    const mark = readReauthMark(value, where);
    if (mark && mark.tokenId !== field) {
      warnMalformedReauthMark(where, 'its tokenId is not the field it is stored under');
      return null;
    }
    return mark;
  }

  async close(): Promise<void> {
    if (this.guard.close()) await this.connection.close();
  }

  /** The script arguments of one save: the rule comes from matchRule, the index keys from TS. */
  private saveArgs(token: OAuthToken): (string | number)[] {
    const rule = matchRule(token);
    return [
      this.keys.tokenPrefix,
      token.id ?? '',
      token.id === undefined ? '' : idScore(token.id),
      rule ? COLUMN_OF[rule.field] : '',
      rule ? this.keys.index(rule.field, rule.value) : '',
      rule ? rule.value : '',
      MAX_NUMERIC_ID,
      indexKeysOf(token, this.keys),
      ...hashPairs(token),
    ];
  }

  private savedId(reply: unknown): string {
    const [status, value] = Array.isArray(reply) ? (reply as unknown[]).map(String) : [];
    if (status === 'OK' && value) return value;
    // No numeric id left: nextIdAfter throws the one message every store gives.
    if (status === 'FULL') nextIdAfter(value ?? null);
    throw new TokenStoreError('WRITE_FAILED', `Exception in saveToken - RedisStore (${this.where}): unexpected reply from the save script`);
  }

  /** Runs one operation on a ready client, turning driver errors into TokenStoreErrors. */
  private async call<T>(operation: string, reason: Reason, secrets: readonly string[], fn: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await this.connection.run(fn);
    } catch (error) {
      throw this.connection.wrap(error, operation, reason, this.where, secrets);
    }
  }
}

/**
 * The store a `redis://host:port/db` URL names (see url.ts): `?prefix=`, `?connectTimeoutMs=`,
 * `?commandTimeoutMs=`, as the options. It connects now, so a db index or password the server
 * refuses fails the open.
 */
export async function redisStoreFromUrl(url: StoreUrl, create: boolean): Promise<RedisStore> {
  const params = url.params(['prefix', 'connectTimeoutMs', 'commandTimeoutMs']);
  // A cluster URL names several seed nodes (`h1:7000,h2:7001`), which is no WHATWG URL.
  const cluster = CLUSTER_PROTOCOLS.has(url.scheme);
  const parsed = cluster ? null : url.parse();
  if (parsed) parsed.search = '';
  const store = new RedisStore({
    url: parsed ? parsed.toString() : `${url.scheme}${url.body}`,
    prefix: params.string('prefix'),
    connectTimeoutMs: params.number('connectTimeoutMs'),
    commandTimeoutMs: params.number('commandTimeoutMs'),
    create,
  });
  return openNow(store, () => store.connect());
}
