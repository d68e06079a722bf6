/**
 * RedisStore's connection: an ioredis client made from a URL (or one the user hands in), a
 * bounded wait for it to be ready, and errors that name host:port and never carry a secret.
 *
 * ioredis reconnects forever and queues commands while it does. Left alone, a call made while
 * the server is down would wait for minutes. So every call first waits for a ready connection
 * for at most `connectTimeoutMs`, each command has a timeout, and a dropped connection
 * (a restart, CLIENT KILL) is re-opened in the background for the next call.
 *
 * ioredis treats a failed SELECT as a warning and goes on in db 0, which may hold another
 * application's data; it retries a refused AUTH forever. Either failure, at the first connection
 * or at any reconnection, stops the connection for good: every call fails with what was refused.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { TokenStoreError } from '../../errors.js';
import { scrubSecrets } from '../../token.js';
import { loadDriver } from '../driver.js';
import { positiveOption } from '../options.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

export interface RedisConnectionOptions {
  url?: string;
  client?: Redis;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  redisOptions?: RedisOptions;
  /** The given client was made for the store (a Cluster from a URL): close() ends it. */
  ownsClient?: boolean;
  /** Where the client connects, for messages, when its options do not say (a Cluster). */
  address?: string;
}

type StoreErrorReason = 'UNAVAILABLE' | 'WRITE_FAILED' | 'LOCK_TIMEOUT';

/** The connection went away under a call: worth waiting for it to come back and retrying. */
const CONNECTION_LOST = /ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed|Stream isn't writeable|MaxRetriesPerRequest|LOADING/i;
/** The server cannot be used now (reported as UNAVAILABLE, not retried). */
const SERVER_TROUBLE = /ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|Command timed out|socket/i;

/** The commands that set a connection up; ioredis names the one that failed on its error. */
const SETUP_COMMANDS = new Set(['auth', 'hello', 'select']);
/** HELLO refused because the server speaks only RESP2: ioredis falls back, nothing is wrong. */
const PROTOCOL_FALLBACK = /NOPROTO|unknown command/i;

/** Backs off 50 ms, 100 ms, ... up to 0.5 s between reconnection attempts, forever. */
function reconnectDelay(attempt: number): number {
  return Math.min(25 * 2 ** Math.min(attempt, 5), 500);
}

export class RedisConnection {
  readonly client: Redis;
  /** Host and port (and db), for messages: never the password. */
  readonly address: string;
  private readonly owned: boolean;
  private readonly db: number;
  private readonly connectTimeoutMs: number;
  private readonly secrets: string[];
  private lastError: string | undefined;
  private readyPromise: Promise<Redis> | undefined;
  /** Why the connection was stopped (a refused SELECT or AUTH); set once, never cleared. */
  private setupFailure: TokenStoreError | undefined;
  private readonly stopWaiters = new Set<(error: TokenStoreError) => void>();
  private readonly recordError = (error: Error) => {
    this.lastError = this.scrub(error?.message ?? String(error));
    const command = (error as { command?: { name?: unknown } } | undefined)?.command?.name;
    if (typeof command === 'string' && SETUP_COMMANDS.has(command.toLowerCase()) && !PROTOCOL_FALLBACK.test(this.lastError)) {
      this.stop(command.toLowerCase(), this.lastError);
    }
  };

  constructor(options: RedisConnectionOptions) {
    this.connectTimeoutMs = positiveOption('RedisStore', 'connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'ms');
    const commandTimeoutMs = positiveOption('RedisStore', 'commandTimeoutMs', options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS, 'ms');
    if (options.client) {
      this.client = options.client;
      this.owned = options.ownsClient === true;
    } else {
      const url = options.url ?? DEFAULT_REDIS_URL;
      checkUrl(url);
      const mod = loadDriver<{
        Redis?: new (url: string, options: RedisOptions) => Redis;
        default?: new (url: string, options: RedisOptions) => Redis;
      }>('ioredis', 'RedisStore');
      const RedisClient = mod.Redis ?? mod.default;
      if (!RedisClient) throw new TokenStoreError('UNAVAILABLE', 'RedisStore: the installed "ioredis" package has no Redis class');
      this.client = new RedisClient(url, {
        lazyConnect: true,
        connectTimeout: this.connectTimeoutMs,
        commandTimeout: commandTimeoutMs,
        maxRetriesPerRequest: 1,
        retryStrategy: reconnectDelay,
        ...options.redisOptions,
      });
      this.owned = true;
    }
    // A Cluster keeps the per-node options (password, keyPrefix) under redisOptions.
    const o = { ...(this.client.options as { redisOptions?: RedisOptions } | undefined)?.redisOptions, ...this.client.options };
    if (o.keyPrefix) {
      // ioredis would prefix KEYS but not the key names the scripts build from ARGV.
      if (this.owned) this.client.disconnect();
      throw new TokenStoreError(
        'INVALID_ARGUMENT',
        "RedisStore cannot use an ioredis client with keyPrefix: use the store's prefix option instead",
      );
    }
    this.secrets = [o.password].filter((v): v is string => typeof v === 'string' && v.length > 0);
    this.db = o.db ?? 0;
    const db = o.db ? ` db ${o.db}` : '';
    this.address = options.address ?? (o.path ? `${o.path}${db}` : `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}${db}`);
    // ioredis prints "Unhandled error event" without a listener; ours records the last error.
    this.client.on('error', this.recordError);
  }

  /**
   * Runs fn on a ready client. A connection lost under the call (a restart, CLIENT KILL) is
   * waited out and fn retried, all within connectTimeoutMs of the first failure. A retried save
   * finds the row a lost first attempt wrote (by id or rule), so it updates it; only a token no
   * rule can match (which every save inserts anyway) could be inserted twice.
   */
  async run<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    let deadline: number | undefined;
    for (;;) {
      if (this.setupFailure) throw this.setupFailure;
      const client = this.client.status === 'ready' ? this.client : await this.waitReady(deadline);
      if (this.setupFailure) throw this.setupFailure;
      try {
        return await fn(client);
      } catch (error) {
        if (this.setupFailure) throw this.setupFailure;
        deadline ??= Date.now() + this.connectTimeoutMs;
        if (!isConnectionLost(error) || Date.now() >= deadline) throw error;
      }
    }
  }

  /** Waits for a ready connection: the store's open (a refused SELECT or AUTH fails it at once). */
  async connect(): Promise<void> {
    await this.run(async () => undefined);
  }

  /**
   * Stops the connection after a refused setup step, so no command runs in db 0 or as another
   * user: a connection the store opened is dropped (its queued commands fail), every waiting and
   * later call fails with why.
   */
  private stop(command: string, detail: string): void {
    if (this.setupFailure) return;
    const step = command === 'select' ? `SELECT ${this.db} (the db of the URL)` : 'AUTH (the user name and password of the URL)';
    const fix =
      command === 'select' ? 'use a db index the server has (redis-cli CONFIG GET databases)' : 'check the user name and password';
    this.setupFailure = new TokenStoreError(
      'UNAVAILABLE',
      `Redis at ${this.address} refused ${step}: ${detail}. The store stopped so that nothing is read or written elsewhere; ${fix}`,
    );
    if (this.owned) this.client.disconnect();
    for (const reject of this.stopWaiters) reject(this.setupFailure);
    this.stopWaiters.clear();
  }

  private waitReady(deadline = Date.now() + this.connectTimeoutMs): Promise<Redis> {
    if (this.setupFailure) return Promise.reject(this.setupFailure);
    const client = this.client;
    if (client.status === 'end') {
      if (!this.owned) return Promise.reject(this.unavailable('the ioredis client given to RedisStore was closed'));
      client.connect().catch(() => undefined);
    }
    if (client.status === 'wait') client.connect().catch(() => undefined);
    if (client.status === 'ready') return Promise.resolve(client);
    let timer: NodeJS.Timeout | undefined;
    let onStop: ((error: TokenStoreError) => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
      onStop = reject;
      this.stopWaiters.add(reject);
      timer = setTimeout(
        () => {
          const why = this.lastError ? `: ${this.lastError}` : '';
          reject(this.unavailable(`no connection within ${this.connectTimeoutMs} ms${why}`));
        },
        Math.max(0, deadline - Date.now()),
      );
    });
    return Promise.race([this.nextReady(), timeout]).finally(() => {
      clearTimeout(timer);
      if (onStop) this.stopWaiters.delete(onStop);
    });
  }

  /** One 'ready' listener shared by every waiting call, however many there are. */
  private nextReady(): Promise<Redis> {
    this.readyPromise ??= new Promise<Redis>((resolve) => {
      this.client.once('ready', () => {
        this.readyPromise = undefined;
        resolve(this.client);
      });
    });
    return this.readyPromise;
  }

  private unavailable(detail: string): TokenStoreError {
    return new TokenStoreError('UNAVAILABLE', `Cannot reach Redis at ${this.address}: ${detail}`);
  }

  scrub(text: string, extraSecrets: readonly string[] = []): string {
    return scrubSecrets(text, [...this.secrets, ...extraSecrets]);
  }

  /**
   * A driver error as a TokenStoreError naming where. ioredis attaches the command's arguments
   * (token values) to its errors, so the raw error is never the cause: a scrubbed copy is.
   */
  wrap(error: unknown, operation: string, reason: StoreErrorReason, where: string, secrets: readonly string[] = []): TokenStoreError {
    if (error instanceof TokenStoreError) return error;
    const message = this.scrub(error instanceof Error ? error.message : String(error), secrets);
    const cause = new Error(message);
    cause.name = error instanceof Error ? error.name : 'Error';
    const kind = isConnectionTrouble(error) ? 'UNAVAILABLE' : reason;
    return new TokenStoreError(kind, `Exception in ${operation} - RedisStore (${where}): ${message}`, { cause });
  }

  async close(): Promise<void> {
    this.client.off('error', this.recordError);
    if (!this.owned) return;
    // Keep a listener: a late socket error after close must not become an unhandled event.
    this.client.on('error', () => undefined);
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        // fall through: drop the socket
      }
    }
    this.client.disconnect();
  }
}

function errorText(error: unknown): string {
  const e = error as { name?: string; message?: string; code?: string } | undefined;
  return `${e?.name ?? ''} ${e?.code ?? ''} ${e?.message ?? String(error)}`;
}

function isConnectionLost(error: unknown): boolean {
  return CONNECTION_LOST.test(errorText(error));
}

function isConnectionTrouble(error: unknown): boolean {
  return isConnectionLost(error) || SERVER_TROUBLE.test(errorText(error));
}

function checkUrl(url: unknown): void {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    const shown = typeof url === 'string' ? JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@').slice(0, 80)) : typeof url;
    throw new TokenStoreError('INVALID_ARGUMENT', `Invalid Redis URL ${shown}: expected redis://host:port/db or rediss://...`);
  }
}
