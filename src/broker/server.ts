/**
 * The token broker: one process refreshes (in the background, under the store's fleet lock),
 * any number of readers only read, over HTTP(S) with a bearer key. Built on node:http/https.
 * `close()` is the graceful stop: no new requests, the ones in flight finish, the background
 * refresher stops (its locks released), then the store is closed.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ReauthorizationRequiredError, ZohoThrottleError, ZTokenError } from '../errors.js';
import type { StopAutoRefresh } from '../manager/auto-refresh.js';
import type { TokenManager } from '../manager/token-manager.js';
import type { TokenStore } from '../store.js';
import { scrubSecrets } from '../token.js';
import type { KeyRing } from './keys-file.js';
import { checkTransport, type ListenAddress } from './listen.js';
import { BrokerMetrics } from './metrics.js';
import { FailureLimiter, type RateLimitOptions } from './rate-limit.js';
import { DEFAULT_MAX_BODY_BYTES } from './request.js';
import { type BrokerLog, handleAccessToken, handleHealth, handleMetrics, type RouteContext, sendJson, toHttpError } from './routes.js';

export interface BrokerOptions {
  manager: TokenManager;
  store: TokenStore;
  keys: KeyRing;
  listen: ListenAddress;
  tls?: { cert: Buffer | string; key: Buffer | string };
  insecureHttp?: boolean;
  /** Refresh each token this long before expiry in the background (0: only on demand). */
  refreshAheadMs?: number;
  /** The client secret, and any other value no answer or log line may hold whole. */
  secrets?: string[];
  log?: BrokerLog;
  metrics?: BrokerMetrics;
  maxBodyBytes?: number;
  rateLimit?: RateLimitOptions;
  /** Close the store at the end of close() (default true; the CLI closes it itself). */
  closeStore?: boolean;
  /** After this long, a stop closes the connections still open (default 10 s). */
  drainTimeoutMs?: number;
}

export class Broker {
  readonly metrics: BrokerMetrics;
  private readonly server: Server;
  private readonly ctx: RouteContext;
  private keyRing: KeyRing;
  private inFlight = 0;
  private draining = false;
  private stopAutoRefresh: StopAutoRefresh | null = null;
  private closing: Promise<void> | null = null;
  private readonly needReauth = new Set<string>();
  private idle: (() => void) | null = null;

  private constructor(private readonly options: BrokerOptions) {
    this.keyRing = options.keys;
    this.metrics = options.metrics ?? new BrokerMetrics(() => this.needReauth.size);
    const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
    const log = options.log ?? (() => undefined);
    this.ctx = {
      manager: options.manager,
      store: options.store,
      keys: () => this.keyRing,
      metrics: this.metrics,
      limiter: new FailureLimiter(options.rateLimit),
      log: (line) => log(JSON.parse(scrubSecrets(JSON.stringify(line), secrets)) as Record<string, unknown>),
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      secrets,
      draining: () => this.draining,
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createHttpServer(handler);
    this.server.keepAliveTimeout = 5_000;
    this.watchManager();
  }

  /** Checks the transport rule, listens, and starts the background refresher. */
  static async start(options: BrokerOptions): Promise<Broker> {
    const warning = checkTransport(options.listen, options.tls !== undefined, options.insecureHttp === true);
    const broker = new Broker(options);
    if (warning) broker.ctx.log({ event: 'warning', message: warning });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) =>
        reject(
          new ZTokenError(
            'BROKER',
            'LISTEN_FAILED',
            `The broker cannot listen on ${options.listen.host}:${options.listen.port}: ${error.code ?? error.message}`,
            {
              cause: error,
            },
          ),
        );
      broker.server.once('error', onError);
      broker.server.listen(options.listen.port, options.listen.host, () => {
        broker.server.off('error', onError);
        resolve();
      });
    });
    const ahead = options.refreshAheadMs ?? 0;
    if (ahead > 0) {
      broker.stopAutoRefresh = options.manager.startAutoRefresh({
        aheadMs: ahead,
        scanIntervalMs: Math.min(60_000, Math.max(1_000, ahead)),
        onResult: (result) => {
          if (!result.ok)
            broker.ctx.log({ event: 'auto-refresh', tokenId: result.tokenId, outcome: 'failed', message: result.error.message });
        },
      });
    }
    return broker;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.options.tls ? 'https' : 'http'}://${host}:${address.port}`;
  }

  /** Replaces the keys (SIGHUP): requests from now on are checked against the new list. */
  reloadKeys(keys: KeyRing): void {
    this.keyRing = keys;
    this.ctx.log({ event: 'keys-reloaded', keys: keys.size });
  }

  /** Graceful stop: refuse new requests, finish those in flight, stop refreshing, close the store. */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timeout = this.options.drainTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        if (this.inFlight === 0) resolve();
        else this.idle = resolve;
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeout);
      }),
    ]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
    await this.stopAutoRefresh?.();
    await this.options.manager.settle();
    if (this.options.closeStore ?? true) await this.options.store.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route =
      path === '/v1/access-token' ? 'access-token' : path === '/healthz' ? 'healthz' : path === '/metrics' ? 'metrics' : 'other';
    this.inFlight++;
    let status = 500;
    try {
      // Keep-alive connections of a draining broker get one last answer, then close.
      if (this.draining) res.setHeader('Connection', 'close');
      if (this.draining && route !== 'healthz') {
        status = 503;
        sendJson(res, 503, { error: 'DRAINING', message: 'The broker is stopping; ask another one' }, { 'Retry-After': '1' });
      } else if (route === 'other') {
        status = 404;
        sendJson(res, 404, { error: 'NOT_FOUND', message: 'Routes: POST /v1/access-token, GET /healthz, GET /metrics' });
      } else if ((route === 'access-token') !== (req.method === 'POST') || (route !== 'access-token' && req.method !== 'GET')) {
        status = 405;
        const allow = route === 'access-token' ? 'POST' : 'GET';
        sendJson(res, 405, { error: 'METHOD_NOT_ALLOWED', message: `${path} takes ${allow}` }, { Allow: allow });
      } else if (route === 'access-token') status = await handleAccessToken(this.ctx, req, res);
      else if (route === 'healthz') status = await handleHealth(this.ctx, res);
      else status = await handleMetrics(this.ctx, res);
    } catch (error) {
      const http = toHttpError(this.ctx, error);
      status = http.status;
      if (!res.headersSent) sendJson(res, http.status, { error: http.code, message: http.message });
      else res.destroy();
    } finally {
      this.metrics.requests.inc({ route, status: String(status) });
      this.metrics.latency.observe({ route }, (performance.now() - started) / 1000);
      this.inFlight--;
      if (this.inFlight === 0 && this.idle) {
        const idle = this.idle;
        this.idle = null;
        // Let the last answer reach its socket before the connections are closed.
        res.once('finish', idle);
        if (res.writableFinished) idle();
      }
    }
  }

  /** Refreshes, throttles, failures and re-authorizations, as the manager reports them. */
  private watchManager(): void {
    const { manager } = this.options;
    manager.on('refresh', (info) => {
      this.metrics.refreshes.inc();
      this.needReauth.delete(info.id);
      this.ctx.log({ event: 'refresh', tokenId: info.id, expiresAt: info.expiryTime });
    });
    manager.on('save', (info) => this.needReauth.delete(info.id));
    manager.on('error', (error) => {
      const code = error instanceof ZTokenError ? error.code : 'ERROR';
      this.metrics.refreshFailures.inc({ code });
      if (error instanceof ZohoThrottleError) this.metrics.throttles.inc();
      if (error instanceof ReauthorizationRequiredError && error.tokenId) this.needReauth.add(error.tokenId);
      this.ctx.log({ event: 'refresh-failed', code, message: error.message });
    });
  }
}

/** A fetch for the manager that counts the calls to Zoho's token endpoint in flight (a gauge and a log line). */
export function countingFetch(
  metrics: () => BrokerMetrics | undefined,
  log: BrokerLog,
  base: typeof fetch = globalThis.fetch,
): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!/\/oauth\/v2\/token(?:\?|$)/.test(url)) return base(input, init);
    const gauge = metrics()?.refreshesInFlight;
    gauge?.inc();
    log({ event: 'zoho-token-call', phase: 'start' });
    try {
      return await base(input, init);
    } finally {
      gauge?.dec();
      log({ event: 'zoho-token-call', phase: 'end' });
    }
  };
}
