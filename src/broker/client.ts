/**
 * BrokerClient: access tokens from a `ztoken serve` broker, for places that cannot hold a token
 * store (AWS Lambda, Cloud Functions, edge workers, CI steps). It imports nothing, not even from
 * this package: only the platform's `fetch`. It caches each token until just before `expiresAt`,
 * collapses concurrent calls for one token into one request, and after a 401 INVALID_TOKEN from
 * Zoho asks the broker once more (naming the refused token, so the broker refreshes it once).
 *
 *   import { BrokerClient } from 'zoho-token-store/broker';
 *   const zoho = new BrokerClient({ url: process.env.ZTOKEN_BROKER_URL, key: process.env.ZTOKEN_BROKER_KEY });
 *   const res = await zoho.fetch({ userName: 'alice@example.com' }, '/crm/v8/Leads');
 */

export type BrokerClientSelector = { id: string } | { userName: string };

export interface BrokerAccessToken {
  accessToken: string;
  apiDomain: string;
  /** Epoch ms. */
  expiresAt: number;
  dataCenter: string;
}

export interface BrokerClientOptions {
  /** The broker's base URL, e.g. `https://tokens.internal:8787`. */
  url: string;
  /** The broker key (`ztoken serve-key add` printed it once). */
  key: string;
  /** Stop using a cached token this long before it expires (default 60 s, at most a quarter of its life). */
  marginMs?: number;
  /** Timeout of each call to the broker (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/** A failure of the broker (or of reaching it): `status` 0 when there was no answer. */
export class BrokerError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrokerError';
  }
}

interface Cached {
  token: BrokerAccessToken;
  /** Serve from the cache until this time (epoch ms). */
  until: number;
}

/** A secret as it may be shown: a short prefix and its length (the same shape as the package's redact). */
function redact(secret: string): string {
  return secret.length <= 16 ? `…(${secret.length} chars)` : `${secret.slice(0, 8)}…(${secret.length} chars)`;
}

export class BrokerClient {
  private readonly base: string;
  private readonly key: string;
  private readonly marginMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<BrokerAccessToken>>();

  constructor(options: BrokerClientOptions) {
    if (!options || typeof options.url !== 'string' || !/^https?:\/\//i.test(options.url)) {
      throw new BrokerError('CONFIG', 0, 'BrokerClient needs url: the broker base URL, e.g. http://127.0.0.1:8787');
    }
    if (typeof options.key !== 'string' || options.key.trim() === '') {
      throw new BrokerError('CONFIG', 0, 'BrokerClient needs key: the broker key `ztoken serve-key add` printed');
    }
    this.base = options.url.replace(/\/+$/, '');
    this.key = options.key.trim();
    this.marginMs = options.marginMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
  }

  /** A valid access token for the selected Zoho user or token id. */
  async getAccessToken(selector: BrokerClientSelector): Promise<string> {
    return (await this.getToken(selector)).accessToken;
  }

  /** The broker's whole answer: access token, API domain, expiry, data center. */
  getToken(selector: BrokerClientSelector): Promise<BrokerAccessToken> {
    const key = selectorKey(selector);
    const cached = this.cache.get(key);
    if (cached && this.now() < cached.until) return Promise.resolve(cached.token);
    return this.ask(key, selector, undefined);
  }

  /**
   * fetch() with `Authorization: Zoho-oauthtoken ...` against the token's API domain (`path` is
   * relative to it; a full URL must be on that origin). On 401 INVALID_TOKEN the broker is asked
   * once more, naming the refused token, and the call is retried once with the new one.
   */
  async fetch(selector: BrokerClientSelector, path: string, init: RequestInit = {}): Promise<Response> {
    // A stream body can be sent only once: read it so the retry can send it again.
    const request = init.body instanceof ReadableStream ? { ...init, body: await new Response(init.body).arrayBuffer() } : init;
    const token = await this.getToken(selector);
    const first = await this.fetchImpl(target(token, path), withAuth(request, token.accessToken));
    if (first.status !== 401 || !(await isInvalidToken(first))) return first;
    const key = selectorKey(selector);
    const current = this.cache.get(key);
    // Another caller may have replaced the refused token meanwhile: use that one.
    const fresh =
      current && current.token.accessToken !== token.accessToken && this.now() < current.until
        ? current.token
        : await this.ask(key, selector, token.accessToken);
    return this.fetchImpl(target(fresh, path), withAuth(request, fresh.accessToken));
  }

  /** Forgets every cached token. */
  clearCache(): void {
    this.cache.clear();
  }

  /** One request per selector at a time; the answer is cached until just before it expires. */
  private ask(key: string, selector: BrokerClientSelector, rejected: string | undefined): Promise<BrokerAccessToken> {
    const flightKey = rejected === undefined ? key : `${key}\u0000rejected`;
    const running = this.inflight.get(flightKey);
    if (running) return running;
    if (rejected !== undefined) this.cache.delete(key);
    const flight = this.request(selector, rejected)
      .then((token) => {
        const life = token.expiresAt - this.now();
        const until = token.expiresAt - Math.min(this.marginMs, Math.max(0, life / 4));
        this.cache.set(key, { token, until });
        return token;
      })
      .finally(() => this.inflight.delete(flightKey));
    this.inflight.set(flightKey, flight);
    return flight;
  }

  private async request(selector: BrokerClientSelector, rejected: string | undefined): Promise<BrokerAccessToken> {
    const body = JSON.stringify(rejected === undefined ? selector : { ...selector, rejectedAccessToken: rejected });
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}/v1/access-token`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.key}`, 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer in ${this.timeoutMs} ms` : (error as Error).message;
      throw new BrokerError('UNREACHABLE', 0, `The token broker at ${this.base} could not be reached: ${reason}`, { cause: error });
    }
    const text = await response.text();
    let json: Record<string, unknown> | null = null;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = null;
    }
    if (!response.ok) {
      const code = typeof json?.error === 'string' ? json.error : `HTTP_${response.status}`;
      const message = typeof json?.message === 'string' ? json.message : `HTTP ${response.status}`;
      throw new BrokerError(code, response.status, `The token broker refused (${response.status} ${code}): ${message}`);
    }
    const token = json as Partial<BrokerAccessToken> | null;
    if (
      !token ||
      typeof token.accessToken !== 'string' ||
      typeof token.apiDomain !== 'string' ||
      typeof token.expiresAt !== 'number' ||
      typeof token.dataCenter !== 'string'
    ) {
      throw new BrokerError(
        'BAD_RESPONSE',
        response.status,
        `The token broker at ${this.base} answered something that is not an access token`,
      );
    }
    return { accessToken: token.accessToken, apiDomain: token.apiDomain, expiresAt: token.expiresAt, dataCenter: token.dataCenter };
  }
}

function selectorKey(selector: BrokerClientSelector): string {
  if (selector && typeof selector === 'object') {
    if ('id' in selector && typeof selector.id === 'string' && selector.id !== '') return `i\u0000${selector.id}`;
    if ('userName' in selector && typeof selector.userName === 'string' && selector.userName !== '') return `u\u0000${selector.userName}`;
  }
  throw new BrokerError('INVALID_SELECTOR', 0, 'Select a token with { id } or { userName }');
}

/** The API URL: a path against the token's API domain; a full URL only on that same origin. */
function target(token: BrokerAccessToken, path: string): string {
  const base = token.apiDomain.replace(/\/+$/, '');
  if (!/^[a-z][a-z0-9+.-]*:/i.test(path)) return `${base}/${path.replace(/^\/+/, '')}`;
  if (new URL(path).origin === new URL(base).origin) return path;
  throw new BrokerError(
    'UNTRUSTED_HOST',
    0,
    `Refusing to send the access token ${redact(token.accessToken)} to ${new URL(path).origin}: not the token's API domain ${base}; pass a path`,
  );
}

function withAuth(init: RequestInit, accessToken: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Zoho-oauthtoken ${accessToken}`);
  return { ...init, headers };
}

/** Zoho's 401 for a bad token: `{"code":"INVALID_TOKEN",...}` (read from a clone). */
async function isInvalidToken(response: Response): Promise<boolean> {
  try {
    const body = (await response.clone().json()) as { code?: unknown };
    return body.code === 'INVALID_TOKEN';
  } catch {
    return false;
  }
}
