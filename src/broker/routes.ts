/**
 * The broker's three routes. `POST /v1/access-token` answers what an API call needs and nothing
 * more: `{ accessToken, apiDomain, expiresAt, dataCenter }` (never the refresh token, the client
 * secret or the grant token). Every request of it leaves one audit line naming the key, the token
 * and the outcome. `GET /healthz` and `GET /metrics` need no key (they hold no secret).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ReauthorizationRequiredError,
  TokenStoreError,
  UntrustedHostError,
  ZohoNetworkError,
  ZohoOAuthError,
  ZohoThrottleError,
} from '../errors.js';
import type { TokenManager } from '../manager/token-manager.js';
import type { TokenStore } from '../store.js';
import { scrubSecrets, type StoredToken } from '../token.js';
import { type BrokerSelector, describeBrokerSelector, grantsToken, preCheck } from './access.js';
import type { BrokerKey, KeyRing } from './keys-file.js';
import type { BrokerMetrics } from './metrics.js';
import type { FailureLimiter } from './rate-limit.js';
import { bearerKey, HttpError, parseAccessTokenRequest, readBody } from './request.js';

export type BrokerLog = (line: Record<string, unknown>) => void;

export interface RouteContext {
  manager: TokenManager;
  store: TokenStore;
  keys: () => KeyRing;
  metrics: BrokerMetrics;
  limiter: FailureLimiter;
  log: BrokerLog;
  maxBodyBytes: number;
  /** Secrets no answer or log line may hold whole (the client secret). */
  secrets: string[];
  draining: () => boolean;
}

export interface AccessTokenAnswer {
  accessToken: string;
  apiDomain: string;
  expiresAt: number;
  dataCenter: string;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** The access token each token id was last answered with, to tell cache hits from new tokens. */
const lastServed = new WeakMap<RouteContext, Map<string, string>>();

export async function handleAccessToken(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const started = performance.now();
  const remote = req.socket.remoteAddress ?? 'unknown';
  const audit: Record<string, unknown> = { event: 'audit', route: 'access-token', remote, key: null, selector: null, tokenId: null };
  let status = 500;
  try {
    const key = authenticate(ctx, req, remote);
    audit.key = key.name;
    const { selector, rejectedAccessToken } = parseAccessTokenRequest(await readBody(req, ctx.maxBodyBytes));
    audit.selector = describeBrokerSelector(selector);
    const token = await serve(ctx, key, selector, rejectedAccessToken);
    audit.tokenId = token.id;
    const where = ctx.manager.locate(token);
    const answer: AccessTokenAnswer = {
      accessToken: token.accessToken ?? '',
      apiDomain: token.apiDomain ?? where.apiDomain,
      expiresAt: token.expiryTime ?? 0,
      dataCenter: where.dataCenter,
    };
    countCacheHit(ctx, token);
    status = 200;
    sendJson(res, 200, answer);
    audit.outcome = 'ok';
  } catch (error) {
    const http = toHttpError(ctx, error);
    status = http.status;
    audit.outcome = http.code;
    if (http.status >= 500 || http.status === 404 || http.status === 409) {
      ctx.metrics.refreshFailures.inc({ code: http.code });
    }
    sendJson(res, http.status, { error: http.code, message: http.message }, http.headers);
  } finally {
    audit.status = status;
    audit.ms = Math.round((performance.now() - started) * 10) / 10;
    ctx.log(audit);
  }
  return status;
}

/** The key of the request, or a 401 / 429. Wrong keys count against the client address. */
function authenticate(ctx: RouteContext, req: IncomingMessage, remote: string): BrokerKey {
  const blocked = ctx.limiter.blockedFor(remote);
  if (blocked > 0) {
    ctx.metrics.authFailures.inc({ reason: 'rate_limited' });
    throw new HttpError(429, 'TOO_MANY_WRONG_KEYS', 'Too many wrong keys from this address; try again later', {
      'Retry-After': String(Math.ceil(blocked / 1000)),
    });
  }
  const presented = bearerKey(req);
  if (presented === null) {
    ctx.metrics.authFailures.inc({ reason: 'missing' });
    throw new HttpError(401, 'MISSING_KEY', 'Send the broker key as Authorization: Bearer <key>', { 'WWW-Authenticate': 'Bearer' });
  }
  const key = presented === '' ? null : ctx.keys().find(presented);
  if (!key) {
    ctx.limiter.recordFailure(remote);
    ctx.metrics.authFailures.inc({ reason: 'wrong' });
    throw new HttpError(401, 'INVALID_KEY', 'The broker key is not valid', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
  return key;
}

const denied = (selector: BrokerSelector) =>
  new HttpError(403, 'NOT_GRANTED', `This key is not granted ${describeBrokerSelector(selector).replace(':', ' ')}`);

async function serve(ctx: RouteContext, key: BrokerKey, selector: BrokerSelector, rejected: string | undefined): Promise<StoredToken> {
  const check = preCheck(key, selector);
  if (check === 'denied') throw denied(selector);
  let token: StoredToken;
  try {
    token = rejected ? await ctx.manager.replaceRejected(selector, rejected) : await ctx.manager.getToken(selector);
  } catch (error) {
    // A key that may not read the selector learns nothing about whether such a token exists.
    if (check === 'check-token' && error instanceof TokenStoreError && error.reason === 'NOT_FOUND') throw denied(selector);
    throw error;
  }
  if (!grantsToken(key, token)) throw denied(selector);
  if (!token.accessToken) throw new ReauthorizationRequiredError(`Token id ${token.id} has no access token`, token.id);
  return token;
}

function countCacheHit(ctx: RouteContext, token: StoredToken): void {
  let served = lastServed.get(ctx);
  if (!served) {
    served = new Map();
    lastServed.set(ctx, served);
  }
  if (served.get(token.id) === token.accessToken) ctx.metrics.cacheHits.inc();
  else {
    ctx.metrics.cacheMisses.inc();
    served.set(token.id, token.accessToken ?? '');
  }
}

/** A failure as an answer: a stable code, a status, and a message with no secret in it. */
export function toHttpError(ctx: RouteContext, error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const message = scrubSecrets((error as Error)?.message ?? String(error), ctx.secrets);
  if (error instanceof ZohoThrottleError) {
    return new HttpError(503, 'ZOHO_THROTTLED', message, { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) });
  }
  if (error instanceof ReauthorizationRequiredError) return new HttpError(409, 'REAUTHORIZATION_REQUIRED', message);
  if (error instanceof TokenStoreError) {
    if (error.reason === 'NOT_FOUND') return new HttpError(404, 'NOT_FOUND', message);
    if (error.reason === 'INVALID_ARGUMENT') return new HttpError(400, 'INVALID_SELECTOR', message);
    return new HttpError(503, 'STORE_UNAVAILABLE', message);
  }
  if (error instanceof ZohoNetworkError) return new HttpError(502, 'ZOHO_UNREACHABLE', message);
  if (error instanceof ZohoOAuthError) return new HttpError(502, 'ZOHO_REFUSED', message);
  if (error instanceof UntrustedHostError) return new HttpError(500, 'UNTRUSTED_HOST', message);
  return new HttpError(500, 'INTERNAL', 'The broker failed to answer; see its log');
}

export async function handleHealth(ctx: RouteContext, res: ServerResponse): Promise<number> {
  const keys = ctx.keys().size;
  let store = 'ok';
  try {
    await withTimeout(ctx.store.findTokenById('1'), 3_000);
  } catch (error) {
    store = `unreachable: ${scrubSecrets((error as Error).message ?? String(error), ctx.secrets).slice(0, 200)}`;
  }
  const ok = store === 'ok' && keys > 0 && !ctx.draining();
  const status = ok ? 200 : 503;
  sendJson(res, status, { status: ok ? 'ok' : 'unavailable', store, keys, draining: ctx.draining() });
  return status;
}

export async function handleMetrics(ctx: RouteContext, res: ServerResponse): Promise<number> {
  const { contentType, body } = await ctx.metrics.text();
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
  return 200;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
