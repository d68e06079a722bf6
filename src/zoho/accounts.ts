/**
 * The client of Zoho's token endpoint (ZOHO.md "Accounts endpoints"): grant exchange, refresh and
 * revoke. Bodies are read even on HTTP 200, because Zoho reports failures there. Every failure
 * becomes one of the typed errors of errors.ts, and no secret (client secret, grant code, refresh
 * or access token) ever appears whole in an error message or in its `cause` chain.
 */
import { ZohoNetworkError, ZohoOAuthError, ZohoThrottleError, ZTokenError } from '../errors.js';
import { redact, scrubSecrets } from '../token.js';

export interface TokenGrant {
  accessToken: string;
  refreshToken?: string;
  apiDomain?: string;
  tokenType?: string;
  /** Lifetime of the access token in milliseconds, relative to when the answer arrived. */
  expiresInMs: number;
}

export interface AccountsClientOptions {
  /** The accounts server, e.g. `https://accounts.zoho.eu` or an emulator's `accountsUrl`. */
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  /** Sent as `redirect_uri` with a grant exchange when set. */
  redirectUrl?: string;
  fetch?: typeof fetch;
  /** Per request, including reading the body. Default 15000. */
  timeoutMs?: number;
}

/** Backoff suggested after a throttle answer that says nothing about when to retry. */
export const DEFAULT_THROTTLE_BACKOFF_MS = 60_000;
/** How many characters of an unreadable body an error message may quote. */
export const BODY_QUOTE_LIMIT = 80;
const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_EXPIRES_IN_MS = 3_600_000;

type Operation = 'exchange' | 'refresh' | 'revoke' | 'device';

/** Zoho's answer to a device code request (times in milliseconds). */
export interface DeviceCode {
  userCode: string;
  deviceCode: string;
  verificationUrl: string;
  verificationUriComplete?: string;
  intervalMs: number;
  expiresInMs: number;
}

/** One device poll: the tokens, or Zoho's "keep waiting" answer (other_dc names the user's DC). */
export type DevicePoll =
  | { status: 'granted'; grant: TokenGrant }
  | { status: 'authorization_pending' | 'slow_down' }
  | { status: 'other_dc'; userLocation: string };

export class AccountsClient {
  readonly accountsUrl: string;
  readonly clientId: string;
  readonly redirectUrl: string | undefined;
  readonly timeoutMs: number;
  readonly #clientSecret: string;
  readonly #fetch: typeof fetch;

  constructor(opts: AccountsClientOptions) {
    if (typeof opts !== 'object' || opts === null) {
      throw new ZTokenError('CONFIG', 'INVALID_OPTIONS', 'AccountsClient needs an options object');
    }
    this.accountsUrl = checkAccountsUrl(opts.accountsUrl);
    if (typeof opts.clientId !== 'string' || opts.clientId.trim() === '') {
      throw new ZTokenError('CONFIG', 'MISSING_CLIENT_ID', 'AccountsClient needs a clientId (a non-empty string)');
    }
    if (typeof opts.clientSecret !== 'string' || opts.clientSecret === '') {
      throw new ZTokenError('CONFIG', 'MISSING_CLIENT_SECRET', 'AccountsClient needs a clientSecret (a non-empty string)');
    }
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw new ZTokenError(
        'CONFIG',
        'INVALID_TIMEOUT',
        `AccountsClient timeoutMs must be a positive number of milliseconds, got ${String(timeout)}`,
      );
    }
    this.clientId = opts.clientId;
    this.#clientSecret = opts.clientSecret;
    this.redirectUrl = opts.redirectUrl || undefined;
    this.timeoutMs = timeout;
    this.#fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The token endpoint, `{accounts}/oauth/v2/token`. */
  get tokenUrl(): string {
    return `${this.accountsUrl}/oauth/v2/token`;
  }

  /** The revoke endpoint, `{accounts}/oauth/v2/token/revoke`. */
  get revokeUrl(): string {
    return `${this.accountsUrl}/oauth/v2/token/revoke`;
  }

  /** Exchanges a grant token (authorization code) for an access and a refresh token. */
  async exchangeGrant(code: string): Promise<TokenGrant> {
    requireSecretArg(code, 'grant token');
    const params = new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: this.clientId,
      client_secret: this.#clientSecret,
      code,
    });
    if (this.redirectUrl) params.set('redirect_uri', this.redirectUrl);
    const { status, body } = await this.#post(this.tokenUrl, params, [code], 'exchange');
    return this.#toGrant(status, body, [code], 'exchange');
  }

  /** Makes a new access token from a refresh token. Zoho answers `invalid_code` for a dead one. */
  async refresh(refreshToken: string): Promise<TokenGrant> {
    requireSecretArg(refreshToken, 'refresh token');
    const params = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: this.clientId,
      client_secret: this.#clientSecret,
      refresh_token: refreshToken,
    });
    const { status, body } = await this.#post(this.tokenUrl, params, [refreshToken], 'refresh');
    return this.#toGrant(status, body, [refreshToken], 'refresh');
  }

  /**
   * Self-client `client_credentials` grant: an access token for `soid` (`ZohoCRM.<org id>`) and
   * scopes, with no refresh token. Repeated whenever the access token expires.
   */
  async clientCredentials(soid: string, scopes: string[]): Promise<TokenGrant> {
    const params = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.clientId,
      client_secret: this.#clientSecret,
      soid,
      scope: scopes.join(','),
    });
    const { status, body } = await this.#post(this.tokenUrl, params, [], 'refresh');
    return this.#toGrant(status, body, [], 'refresh');
  }

  /** Device flow, step 1: `POST {accounts}/oauth/v3/device/code`, asking for a refresh token. */
  async requestDeviceCode(scopes: string[]): Promise<DeviceCode> {
    const params = new URLSearchParams({
      grant_type: 'device_request',
      client_id: this.clientId,
      scope: scopes.join(','),
      access_type: 'offline',
      prompt: 'consent',
    });
    const url = `${this.accountsUrl}/oauth/v3/device/code`;
    const { status, body } = await this.#post(url, params, [], 'device');
    if (body.error !== undefined && body.error !== null && body.error !== '') throw this.#errorFromBody(status, body, [], 'device');
    const text = (key: string): string => {
      const value = body[key];
      if (typeof value !== 'string' || value === '') {
        throw new ZohoNetworkError('BAD_RESPONSE', `Zoho's device code answer (POST ${url}, HTTP ${status}) has no ${key}`);
      }
      return value;
    };
    const seconds = (key: string, fallback: number): number => {
      const value = Number(body[key] ?? fallback);
      return Number.isFinite(value) && value > 0 ? value * 1000 : fallback * 1000;
    };
    const code: DeviceCode = {
      userCode: text('user_code'),
      deviceCode: text('device_code'),
      verificationUrl: text('verification_url'),
      intervalMs: seconds('interval', 5),
      expiresInMs: seconds('expires_in', 300),
    };
    if (typeof body.verification_uri_complete === 'string' && body.verification_uri_complete) {
      code.verificationUriComplete = body.verification_uri_complete;
    }
    return code;
  }

  /** Device flow, step 2: one poll of `POST {accounts}/oauth/v3/device/token`. Other errors throw. */
  async pollDeviceToken(deviceCode: string): Promise<DevicePoll> {
    requireSecretArg(deviceCode, 'device code');
    const params = new URLSearchParams({
      grant_type: 'device_token',
      client_id: this.clientId,
      client_secret: this.#clientSecret,
      code: deviceCode,
    });
    const { status, body } = await this.#post(`${this.accountsUrl}/oauth/v3/device/token`, params, [deviceCode], 'device');
    if (body.error === 'authorization_pending' || body.error === 'slow_down') return { status: body.error };
    if (body.error === 'other_dc') return { status: 'other_dc', userLocation: String(body.user_location ?? '') };
    return { status: 'granted', grant: this.#toGrant(status, body, [deviceCode], 'device') };
  }

  /** Revokes a refresh token (and the access tokens made from it) at Zoho. */
  async revoke(refreshToken: string): Promise<void> {
    requireSecretArg(refreshToken, 'refresh token');
    const params = new URLSearchParams({ token: refreshToken });
    const { status, body } = await this.#post(this.revokeUrl, params, [refreshToken], 'revoke');
    if (body.error !== undefined && body.error !== null && body.error !== '') {
      throw this.#errorFromBody(status, body, [refreshToken], 'revoke');
    }
    if (body.status === 'success') return;
    // The status is the server's text: it may echo what it was sent.
    const zohoError =
      typeof body.status === 'string' && body.status
        ? scrubSecrets(body.status, [refreshToken, this.#clientSecret]).slice(0, 100)
        : 'revoke_failed';
    throw new ZohoOAuthError(
      zohoError,
      status,
      `Zoho did not revoke the refresh token ${redact(refreshToken)} (status ${JSON.stringify(zohoError)}, HTTP ${status})`,
    );
  }

  // -------------------------------------------------------------------------------------------

  async #post(
    url: string,
    params: URLSearchParams,
    secrets: string[],
    op: Operation,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const allSecrets = [...secrets, this.#clientSecret];
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: params.toString(),
        signal,
        redirect: 'manual',
      });
    } catch (err) {
      throw this.#networkError(err, url, allSecrets, signal);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      if (isTimeout(err, signal)) throw this.#networkError(err, url, allSecrets, signal);
      throw new ZohoNetworkError(
        'BAD_RESPONSE',
        `The Zoho accounts server's answer to POST ${url} (HTTP ${response.status}) broke off before its end: ${describeCause(err, allSecrets)}`,
        { cause: safeCause(err, allSecrets) },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      if (response.status === 429) parsed = {};
      else throw badBody(url, response.status, text, allSecrets, 'is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw badBody(url, response.status, text, allSecrets, 'is not a JSON object');
    }
    const body = parsed as Record<string, unknown>;
    const hasError = body.error !== undefined && body.error !== null && body.error !== '';
    if (!hasError && response.status === 429) {
      throw new ZohoThrottleError(
        `Zoho throttled the token endpoint (HTTP ${response.status}) during ${opName(op)}; retry later`,
        retryAfterOf(response, body),
      );
    }
    if (hasError) {
      if (isThrottle(body, response.status)) {
        const description = scrubSecrets(String(body.error_description ?? body.error), allSecrets);
        throw new ZohoThrottleError(
          `Zoho throttled the token endpoint during ${opName(op)} (${JSON.stringify(String(body.error))}: ${description}); ` +
            'this is a rate limit, not a bad credential: keep using a still-valid access token and retry later',
          retryAfterOf(response, body),
        );
      }
      return { status: response.status, body };
    }
    if (response.status < 200 || response.status >= 300) {
      throw badBody(url, response.status, text, allSecrets, `came with HTTP ${response.status} and no "error"`);
    }
    return { status: response.status, body };
  }

  #toGrant(status: number, body: Record<string, unknown>, secrets: string[], op: Operation): TokenGrant {
    if (body.error !== undefined && body.error !== null && body.error !== '') {
      throw this.#errorFromBody(status, body, secrets, op);
    }
    const accessToken = body.access_token;
    if (typeof accessToken !== 'string' || accessToken === '') {
      const keys = Object.keys(body).slice(0, 10).join(', ') || 'none';
      throw new ZohoNetworkError(
        'BAD_RESPONSE',
        `Zoho's answer to the ${opName(op)} (POST ${this.tokenUrl}, HTTP ${status}) has no access_token (keys: ${keys})`,
      );
    }
    const grant: TokenGrant = { accessToken, expiresInMs: expiresInMsOf(body, `the ${opName(op)} (POST ${this.tokenUrl})`) };
    if (typeof body.refresh_token === 'string' && body.refresh_token !== '') grant.refreshToken = body.refresh_token;
    if (typeof body.api_domain === 'string' && body.api_domain !== '') grant.apiDomain = body.api_domain;
    if (typeof body.token_type === 'string' && body.token_type !== '') grant.tokenType = body.token_type;
    return grant;
  }

  #errorFromBody(status: number, body: Record<string, unknown>, secrets: string[], op: Operation): ZohoOAuthError {
    const allSecrets = [...secrets, this.#clientSecret];
    const zohoError = scrubSecrets(typeof body.error === 'string' ? body.error : JSON.stringify(body.error), allSecrets).slice(0, 100);
    const description =
      typeof body.error_description === 'string' && body.error_description
        ? ` Zoho says: ${scrubSecrets(body.error_description, allSecrets).slice(0, 200)}`
        : '';
    return new ZohoOAuthError(zohoError, status, `${plainWords(zohoError, op, this)}${description}`);
  }

  #networkError(err: unknown, url: string, secrets: string[], signal: AbortSignal): ZohoNetworkError {
    const cause = safeCause(err, secrets);
    if (isTimeout(err, signal)) {
      return new ZohoNetworkError(
        'TIMEOUT',
        `The Zoho accounts server did not answer POST ${url} within ${this.timeoutMs} ms (timeoutMs)`,
        { cause },
      );
    }
    const codes = errorCodes(err);
    if (codes.includes('ECONNREFUSED')) {
      return new ZohoNetworkError(
        'CONNECTION_REFUSED',
        `Cannot connect to the Zoho accounts server at ${hostPort(url)}: connection refused (POST ${url}); check accountsUrl and that the server is up`,
        { cause },
      );
    }
    return new ZohoNetworkError('NETWORK', `Network error calling the Zoho accounts server (POST ${url}): ${describeCause(err, secrets)}`, {
      cause,
    });
  }
}

// ---------------------------------------------------------------------------------------------

function opName(op: Operation): string {
  if (op === 'device') return 'device flow';
  return op === 'exchange' ? 'grant token exchange' : op === 'refresh' ? 'token refresh' : 'token revocation';
}

function plainWords(zohoError: string, op: Operation, client: AccountsClient): string {
  switch (zohoError) {
    case 'invalid_code':
      return op === 'refresh'
        ? 'Zoho rejected the refresh token (invalid_code): it is unknown, revoked or was deleted when the user made more than 20; the user must authorize again'
        : 'Zoho rejected the grant token (invalid_code): it is unknown, already used or expired (a grant token is single-use and valid for a few minutes); generate a new one';
    case 'invalid_client':
      return `Zoho rejected the client credentials (invalid_client): check the client id (${client.clientId}) and secret, and that the client belongs to this data center (${client.accountsUrl})`;
    case 'invalid_client_secret':
      return `Zoho rejected the client secret (invalid_client_secret): check the secret of client ${client.clientId}`;
    case 'invalid_redirect_uri':
      return `Zoho rejected the redirect URI (invalid_redirect_uri): it must be exactly one registered for client ${client.clientId} (sent: ${client.redirectUrl ?? 'none'})`;
    case 'invalid_token':
      return 'Zoho does not know the token (invalid_token): it is already revoked or was never issued';
    case 'unsupported_grant_type':
      return `Zoho refused the grant type (unsupported_grant_type) of the ${opName(op)}`;
    default:
      return `Zoho's accounts server refused the ${opName(op)} (${zohoError})`;
  }
}

function isThrottle(body: Record<string, unknown>, status: number): boolean {
  const text = `${String(body.error)} ${typeof body.error_description === 'string' ? body.error_description : ''}`;
  return /access denied|too many requests/i.test(text) || (status === 429 && !/^invalid_/.test(String(body.error)));
}

/** Retry-After (seconds or an HTTP date) if the server sent one, else the default backoff. */
function retryAfterOf(response: Response, body: Record<string, unknown>): number {
  const header = response.headers.get('retry-after');
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  const fromBody = body.retry_after_ms;
  if (typeof fromBody === 'number' && Number.isFinite(fromBody) && fromBody >= 0) return fromBody;
  return DEFAULT_THROTTLE_BACKOFF_MS;
}

/** The longest access-token lifetime we believe: Zoho's are an hour; past a day is a misread unit. */
export const MAX_EXPIRES_IN_MS = 86_400_000;

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/**
 * The lifetime in ms. `expires_in_sec` (seconds) wins when present; some services then send
 * `expires_in` in milliseconds, so `expires_in` alone is seconds. A lifetime that is not a number,
 * not positive, or past a day is refused: storing it would mean refreshing never or constantly.
 */
function expiresInMsOf(body: Record<string, unknown>, where: string): number {
  const field = present(body.expires_in_sec) ? 'expires_in_sec' : present(body.expires_in) ? 'expires_in' : null;
  if (field === null) return DEFAULT_EXPIRES_IN_MS;
  const raw = body[field];
  const seconds = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  const ms = typeof seconds === 'number' ? Math.round(seconds * 1000) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_EXPIRES_IN_MS) {
    throw new ZohoNetworkError(
      'BAD_RESPONSE',
      `Zoho's answer to ${where} has ${field}=${JSON.stringify(String(raw).slice(0, 20))}, which is not a lifetime of 1 s to 1 day; nothing was stored`,
    );
  }
  return ms;
}

function checkAccountsUrl(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ZTokenError('CONFIG', 'INVALID_ACCOUNTS_URL', 'AccountsClient needs an accountsUrl such as https://accounts.zoho.com');
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ZTokenError(
      'CONFIG',
      'INVALID_ACCOUNTS_URL',
      `accountsUrl ${JSON.stringify(value.slice(0, 100))} is not a URL (expected e.g. https://accounts.zoho.com)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ZTokenError('CONFIG', 'INVALID_ACCOUNTS_URL', `accountsUrl must be http(s), got ${url.protocol}`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ZTokenError('CONFIG', 'INVALID_ACCOUNTS_URL', 'accountsUrl must not carry credentials, a query or a fragment');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function requireSecretArg(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ZTokenError('CONFIG', 'INVALID_ARGUMENT', `A ${what} is required (a non-empty string)`);
  }
}

function hostPort(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return url;
  }
}

function isTimeout(err: unknown, signal: AbortSignal): boolean {
  if (signal.aborted && signal.reason instanceof Error && signal.reason.name === 'TimeoutError') return true;
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { name?: unknown }).name === 'TimeoutError') return true;
  }
  return false;
}

/** Every `code` found along the cause chain and inside AggregateErrors. */
function errorCodes(err: unknown, depth = 0, out: string[] = []): string[] {
  if (!err || typeof err !== 'object' || depth > 6) return out;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') out.push(e.code);
  if (Array.isArray(e.errors)) for (const inner of e.errors) errorCodes(inner, depth + 1, out);
  errorCodes(e.cause, depth + 1, out);
  return out;
}

function describeCause(err: unknown, secrets: string[]): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const msg = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' && !msg.includes(code) ? `${msg} (${code})` : msg);
  }
  return scrubSecrets(parts.join(': '), secrets).slice(0, 300) || 'unknown error';
}

/**
 * A copy of an error chain whose messages are scrubbed of secrets: a caller-supplied fetch may
 * throw anything, so its error is never attached as is.
 */
function safeCause(err: unknown, secrets: string[], depth = 0): Error | undefined {
  if (err === undefined || err === null || depth > 4) return undefined;
  const source = err as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
  const message = scrubSecrets(typeof source.message === 'string' ? source.message : String(err), secrets);
  const inner = safeCause(source.cause, secrets, depth + 1);
  const copy = new Error(message, inner ? { cause: inner } : undefined) as Error & { code?: string };
  copy.name = typeof source.name === 'string' ? source.name : 'Error';
  if (typeof source.code === 'string') copy.code = source.code;
  return copy;
}

function badBody(url: string, status: number, text: string, secrets: string[], what: string): ZohoNetworkError {
  const quoted = scrubSecrets(text, secrets).slice(0, BODY_QUOTE_LIMIT);
  const shown = text.length === 0 ? 'an empty body' : `${JSON.stringify(quoted)}${text.length > BODY_QUOTE_LIMIT ? '…' : ''}`;
  return new ZohoNetworkError('BAD_RESPONSE', `The Zoho accounts server's answer to POST ${url} (HTTP ${status}) ${what}: ${shown}`);
}
