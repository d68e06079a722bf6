/**
 * The emulator's memory: clients, users, grant codes, refresh and access tokens, the limits of
 * ZOHO.md and the counters. Plain logic, no HTTP: the route files translate to and from Zoho's
 * wire format. Every lookup is a Map access (O(1)); per-token bookkeeping is bounded by the limits
 * (at most `activeAccessPerRefresh` access tokens per refresh token, `refreshPerUserClient`
 * refresh tokens per user and client), so memory stays flat under a benchmark.
 */
import { ZohoThrottleError, ZTokenError } from '../../errors.js';
import type { EmulatorClock } from './clock.js';
import { newNumericId, newZohoToken, refreshTokenHandle } from './ids.js';

/** The sliding window of Zoho's rate limits. */
export const WINDOW_MS = 600_000;

export interface EmulatorLimits {
  /** How long a grant code stays valid. Zoho: 3 minutes. */
  grantTtlMs: number;
  /** Grant codes per client id in any 10 minutes. */
  grantsPer10Min: number;
  /** Access tokens made by refreshing one refresh token in any 10 minutes (then "Access Denied"). */
  accessPerRefreshPer10Min: number;
  /** Active access tokens per refresh token; one more invalidates the oldest. */
  activeAccessPerRefresh: number;
  /** Refresh tokens per user per client; one more deletes the first (and its access tokens). */
  refreshPerUserClient: number;
  /** Access token lifetime in emulated time. */
  accessTtlMs: number;
}

export const DEFAULT_LIMITS: Readonly<EmulatorLimits> = Object.freeze({
  grantTtlMs: 180_000,
  grantsPer10Min: 10,
  accessPerRefreshPer10Min: 10,
  activeAccessPerRefresh: 15,
  refreshPerUserClient: 20,
  accessTtlMs: 3_600_000,
});

export interface EmulatorClientConfig {
  clientId: string;
  clientSecret: string;
  /** Accepted redirect URIs; unset accepts any. */
  redirectUris?: string[];
}

export interface EmulatorUserConfig {
  email: string;
  /** The org's zgid (the official SDKs name a user `email:zgid`). */
  zgid?: string;
  name?: string;
}

export interface EmulatorUser {
  /** CRM user id (19 digits). */
  id: string;
  email: string;
  zgid: string;
  name: string;
}

export interface IssueGrantOptions {
  clientId?: string;
  userEmail?: string;
  scope?: string;
  redirectUri?: string;
  /** `online` grants exchange to an access token only. Default `offline`. */
  accessType?: 'offline' | 'online';
}

export interface EmulatorCounters {
  /** Every request to POST /oauth/v2/token, whatever its outcome. */
  tokenRequests: number;
  /** Successful grant exchanges. */
  grantExchanges: number;
  /** Successful refreshes. */
  refreshes: number;
  /** Successful refreshes per refresh token, keyed by `refreshTokenHandle(rt)` (`rt_<16 hex>`). */
  refreshesByToken: Record<string, number>;
  /** Token requests answered with the "Access Denied" throttle. */
  throttled: number;
  /** Token and revoke requests refused, by Zoho's error string (e.g. `invalid_code`). */
  rejected: Record<string, number>;
  /** API requests, CRM and other products (any outcome). */
  apiCalls: number;
  /** API requests per product (`crm`, `books`). */
  apiCallsByProduct: Record<string, number>;
  /** CRM requests refused with 401 INVALID_TOKEN. */
  apiRejected: number;
  /** Refresh tokens revoked (endpoint or `revokeRefreshToken`). */
  revocations: number;
  /** Grant codes issued (self-client, /oauth/v2/auth, admin endpoint). */
  grantsIssued: number;
  /** Access tokens issued by the self-client `client_credentials` grant. */
  clientCredentialsGrants: number;
}

interface ClientRecord {
  clientId: string;
  clientSecret: string;
  redirectUris: Set<string> | null;
  /** Emulated times of grant codes issued in the current window. */
  grantTimes: number[];
}

interface GrantRecord {
  clientId: string;
  user: EmulatorUser;
  scope: string;
  redirectUri: string | undefined;
  accessType: 'offline' | 'online';
  expiresAt: number;
}

interface RefreshRecord {
  token: string;
  handle: string;
  clientId: string;
  user: EmulatorUser;
  scope: string;
  /** Active access tokens in issue order (a Set keeps insertion order; first = oldest). */
  accessTokens: Set<string>;
  /** Emulated times of access tokens made by refreshing, within the window. */
  refreshTimes: number[];
}

export interface AccessRecord {
  clientId: string;
  user: EmulatorUser;
  scope: string;
  expiresAt: number;
  refresh: RefreshRecord | null;
}

/** What the token endpoint answers: Zoho's success body, or Zoho's error string and body. */
export type TokenOutcome =
  | { ok: true; body: Record<string, string | number> }
  | { ok: false; error: string; body: Record<string, string>; retryAfterMs?: number };

export const THROTTLE_BODY = Object.freeze({
  error: 'Access Denied',
  error_description: 'You have made too many requests continuously. Please try again after some time.',
});

export const DEFAULT_SCOPE = 'ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ';
/** The zgid given to users configured without one (one emulated org). */
export const DEFAULT_ZGID = '700123456';

function emptyCounters(): EmulatorCounters {
  return {
    tokenRequests: 0,
    grantExchanges: 0,
    refreshes: 0,
    refreshesByToken: {},
    throttled: 0,
    rejected: {},
    apiCalls: 0,
    apiCallsByProduct: {},
    apiRejected: 0,
    revocations: 0,
    grantsIssued: 0,
    clientCredentialsGrants: 0,
  };
}

function checkLimits(input: Partial<EmulatorLimits> | undefined): EmulatorLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(input ?? {})) {
    if (!(key in DEFAULT_LIMITS))
      throw new ZTokenError(
        'CONFIG',
        'INVALID_OPTION',
        `Unknown emulator limit ${JSON.stringify(key)}: expected one of ${Object.keys(DEFAULT_LIMITS).join(', ')}`,
      );
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new ZTokenError('CONFIG', 'INVALID_OPTION', `Emulator limit ${key} must be a positive whole number, got ${String(value)}`);
    }
    limits[key as keyof EmulatorLimits] = value;
  }
  return limits;
}

/** Drops the times that left the window (they are in ascending order). */
function pruneWindow(times: number[], now: number): void {
  let drop = 0;
  while (drop < times.length && (times[drop] as number) <= now - WINDOW_MS) drop++;
  if (drop > 0) times.splice(0, drop);
}

export class EmulatorState {
  readonly limits: Readonly<EmulatorLimits>;
  readonly clock: EmulatorClock;
  /** Filled in by the server once it listens: the `api_domain` it answers. */
  apiDomain = '';

  readonly #clients = new Map<string, ClientRecord>();
  readonly #users = new Map<string, EmulatorUser>();
  readonly #grants = new Map<string, GrantRecord>();
  readonly #refresh = new Map<string, RefreshRecord>();
  readonly #access = new Map<string, AccessRecord>();
  /** `${clientId}\n${email}` -> refresh tokens in issue order. */
  readonly #refreshByUserClient = new Map<string, Set<string>>();
  #counters = emptyCounters();
  #grantsSinceSweep = 0;

  constructor(clock: EmulatorClock, limits?: Partial<EmulatorLimits>) {
    this.clock = clock;
    this.limits = Object.freeze(checkLimits(limits));
  }

  // --- clients and users ------------------------------------------------------------------

  addClient(config: EmulatorClientConfig): void {
    if (
      !config ||
      typeof config.clientId !== 'string' ||
      config.clientId === '' ||
      typeof config.clientSecret !== 'string' ||
      config.clientSecret === ''
    ) {
      throw new ZTokenError('CONFIG', 'INVALID_OPTION', 'An emulator client needs a non-empty clientId and clientSecret');
    }
    if (config.redirectUris !== undefined && !Array.isArray(config.redirectUris)) {
      throw new ZTokenError('CONFIG', 'INVALID_OPTION', `redirectUris of client ${config.clientId} must be an array of URLs`);
    }
    const existing = this.#clients.get(config.clientId);
    this.#clients.set(config.clientId, {
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      redirectUris: config.redirectUris ? new Set(config.redirectUris) : null,
      grantTimes: existing?.grantTimes ?? [],
    });
  }

  addUser(config: EmulatorUserConfig): EmulatorUser {
    if (!config || typeof config.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(config.email)) {
      throw new ZTokenError('CONFIG', 'INVALID_OPTION', `An emulator user needs an email address, got ${JSON.stringify(config?.email)}`);
    }
    const key = config.email.toLowerCase();
    const existing = this.#users.get(key);
    const local = config.email.split('@')[0] ?? config.email;
    const user: EmulatorUser = {
      id: existing?.id ?? newNumericId(),
      email: config.email,
      zgid: config.zgid ?? existing?.zgid ?? DEFAULT_ZGID,
      name: config.name ?? existing?.name ?? local.charAt(0).toUpperCase() + local.slice(1),
    };
    if (existing) Object.assign(existing, user);
    else this.#users.set(key, user);
    return existing ?? user;
  }

  getClient(clientId: string): ClientRecord | undefined {
    return this.#clients.get(clientId);
  }

  /** The user with this email (case-insensitive); unknown emails are added (anyone may sign in). */
  userFor(email: string | undefined): EmulatorUser {
    if (email === undefined || email === '') {
      const first = this.#users.values().next();
      if (first.done) throw new ZTokenError('EMULATOR', 'NO_USER', 'The emulator has no users: add one with addUser() or name one');
      return first.value;
    }
    return this.#users.get(email.toLowerCase()) ?? this.addUser({ email });
  }

  allUsers(): EmulatorUser[] {
    return [...this.#users.values()];
  }

  firstClientId(): string | undefined {
    return this.#clients.keys().next().value;
  }

  redirectAllowed(client: ClientRecord, redirectUri: string): boolean {
    return client.redirectUris === null || client.redirectUris.has(redirectUri);
  }

  // --- grants ------------------------------------------------------------------------------

  /** Issues a one-time grant code (the self-client flow). Throws when over the per-client limit. */
  issueGrant(options: IssueGrantOptions = {}): string {
    const clientId = options.clientId ?? this.firstClientId();
    const client = clientId === undefined ? undefined : this.#clients.get(clientId);
    if (!client) {
      throw new ZTokenError(
        'EMULATOR',
        'UNKNOWN_CLIENT',
        `The emulator has no client ${JSON.stringify(clientId ?? '')}: add it with addClient()`,
      );
    }
    if (options.redirectUri !== undefined && !this.redirectAllowed(client, options.redirectUri)) {
      throw new ZTokenError(
        'EMULATOR',
        'INVALID_REDIRECT_URI',
        `Redirect URI ${options.redirectUri} is not registered for client ${client.clientId}`,
      );
    }
    const user = this.userFor(options.userEmail);
    const now = this.clock.now();
    pruneWindow(client.grantTimes, now);
    if (client.grantTimes.length >= this.limits.grantsPer10Min) {
      const retryAfterMs = Math.max(1, (client.grantTimes[0] as number) + WINDOW_MS - now);
      throw new ZohoThrottleError(
        `Too many grant tokens for client ${client.clientId}: at most ${this.limits.grantsPer10Min} per 10 minutes`,
        retryAfterMs,
      );
    }
    client.grantTimes.push(now);
    if (++this.#grantsSinceSweep >= 1000) this.#sweepGrants(now);
    const code = newZohoToken();
    this.#grants.set(code, {
      clientId: client.clientId,
      user,
      scope: options.scope || DEFAULT_SCOPE,
      redirectUri: options.redirectUri,
      accessType: options.accessType ?? 'offline',
      expiresAt: now + this.limits.grantTtlMs,
    });
    this.#counters.grantsIssued++;
    return code;
  }

  #sweepGrants(now: number): void {
    this.#grantsSinceSweep = 0;
    for (const [code, grant] of this.#grants) if (grant.expiresAt <= now) this.#grants.delete(code);
  }

  // --- token endpoint ----------------------------------------------------------------------

  /** POST /oauth/v2/token with its parameters (query and body merged). */
  token(params: Record<string, string>): TokenOutcome {
    this.#counters.tokenRequests++;
    const grantType = params.grant_type;
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token' && grantType !== 'client_credentials') {
      return this.#reject('unsupported_grant_type');
    }
    const client = params.client_id ? this.#clients.get(params.client_id) : undefined;
    if (!client || client.clientSecret !== params.client_secret) return this.#reject('invalid_client');
    if (grantType === 'client_credentials') return this.#clientCredentials(client, params);
    return grantType === 'authorization_code' ? this.#exchange(client, params) : this.#refreshGrant(client, params);
  }

  #reject(error: string): TokenOutcome {
    this.#counters.rejected[error] = (this.#counters.rejected[error] ?? 0) + 1;
    return { ok: false, error, body: { error } };
  }

  #exchange(client: ClientRecord, params: Record<string, string>): TokenOutcome {
    const code = params.code ?? '';
    const grant = this.#grants.get(code);
    const now = this.clock.now();
    if (!grant || grant.clientId !== client.clientId) return this.#reject('invalid_code');
    if (grant.expiresAt <= now) {
      this.#grants.delete(code);
      return this.#reject('invalid_code');
    }
    const redirectUri = params.redirect_uri;
    if (
      grant.redirectUri !== undefined
        ? redirectUri !== grant.redirectUri
        : redirectUri !== undefined && redirectUri !== '' && !this.redirectAllowed(client, redirectUri)
    ) {
      return this.#reject('invalid_redirect_uri');
    }
    this.#grants.delete(code); // one-time
    const body: Record<string, string | number> = {};
    let refresh: RefreshRecord | null = null;
    if (grant.accessType === 'offline') refresh = this.#newRefreshToken(client.clientId, grant.user, grant.scope);
    const accessToken = this.#newAccessToken(client.clientId, grant.user, grant.scope, refresh, now);
    body.access_token = accessToken;
    if (refresh) body.refresh_token = refresh.token;
    this.#counters.grantExchanges++;
    return { ok: true, body: this.#successBody(body) };
  }

  #refreshGrant(client: ClientRecord, params: Record<string, string>): TokenOutcome {
    const refresh = this.#refresh.get(params.refresh_token ?? '');
    if (!refresh || refresh.clientId !== client.clientId) return this.#reject('invalid_code');
    const now = this.clock.now();
    pruneWindow(refresh.refreshTimes, now);
    if (refresh.refreshTimes.length >= this.limits.accessPerRefreshPer10Min) {
      this.#counters.throttled++;
      const retryAfterMs = Math.max(1, (refresh.refreshTimes[0] as number) + WINDOW_MS - now);
      return { ok: false, error: THROTTLE_BODY.error, body: { ...THROTTLE_BODY }, retryAfterMs };
    }
    refresh.refreshTimes.push(now);
    const accessToken = this.#newAccessToken(client.clientId, refresh.user, refresh.scope, refresh, now);
    this.#counters.refreshes++;
    const byToken = this.#counters.refreshesByToken;
    byToken[refresh.handle] = (byToken[refresh.handle] ?? 0) + 1;
    return { ok: true, body: this.#successBody({ access_token: accessToken }) };
  }

  /** Self-client credentials: `soid=ZohoCRM.<org>` and scopes give an access token only (no refresh token). */
  #clientCredentials(client: ClientRecord, params: Record<string, string>): TokenOutcome {
    const soid = params.soid ?? '';
    if (!/^Zoho[A-Za-z]+\.[0-9A-Za-z_-]+$/.test(soid)) return this.#reject('missing_org_info');
    const scope = (params.scope ?? '').trim();
    if (scope === '') return this.#reject('invalid_scope');
    const now = this.clock.now();
    const accessToken = this.#newAccessToken(client.clientId, this.userFor(undefined), scope, null, now);
    this.#counters.clientCredentialsGrants++;
    return { ok: true, body: this.#successBody({ access_token: accessToken, scope }) };
  }

  #successBody(tokens: Record<string, string | number>): Record<string, string | number> {
    return {
      ...tokens,
      api_domain: this.apiDomain,
      token_type: 'Bearer',
      expires_in: Math.round(this.limits.accessTtlMs / 1000),
    };
  }

  #newRefreshToken(clientId: string, user: EmulatorUser, scope: string): RefreshRecord {
    const key = `${clientId}\n${user.email.toLowerCase()}`;
    let set = this.#refreshByUserClient.get(key);
    if (!set) {
      set = new Set();
      this.#refreshByUserClient.set(key, set);
    }
    while (set.size >= this.limits.refreshPerUserClient) {
      const oldest = set.values().next().value as string;
      this.#deleteRefresh(oldest);
    }
    const token = newZohoToken();
    const record: RefreshRecord = {
      token,
      handle: refreshTokenHandle(token),
      clientId,
      user,
      scope,
      accessTokens: new Set(),
      refreshTimes: [],
    };
    this.#refresh.set(token, record);
    set.add(token);
    return record;
  }

  #newAccessToken(clientId: string, user: EmulatorUser, scope: string, refresh: RefreshRecord | null, now: number): string {
    if (refresh) {
      for (const at of refresh.accessTokens) {
        const rec = this.#access.get(at);
        if (!rec || rec.expiresAt <= now) {
          refresh.accessTokens.delete(at);
          this.#access.delete(at);
        }
      }
      while (refresh.accessTokens.size >= this.limits.activeAccessPerRefresh) {
        const oldest = refresh.accessTokens.values().next().value as string;
        refresh.accessTokens.delete(oldest);
        this.#access.delete(oldest);
      }
    }
    const token = newZohoToken();
    this.#access.set(token, { clientId, user, scope, expiresAt: now + this.limits.accessTtlMs, refresh });
    refresh?.accessTokens.add(token);
    return token;
  }

  #deleteRefresh(token: string): boolean {
    const record = this.#refresh.get(token);
    if (!record) return false;
    for (const at of record.accessTokens) this.#access.delete(at);
    this.#refresh.delete(token);
    const key = `${record.clientId}\n${record.user.email.toLowerCase()}`;
    const set = this.#refreshByUserClient.get(key);
    set?.delete(token);
    if (set && set.size === 0) this.#refreshByUserClient.delete(key);
    return true;
  }

  // --- revoke, access checks, admin ------------------------------------------------------------

  /** POST /oauth/v2/token/revoke: revokes a refresh token and its access tokens. */
  revokeEndpoint(token: string | undefined): boolean {
    if (token && this.revokeRefreshToken(token)) return true;
    this.#reject('invalid_token');
    return false;
  }

  revokeRefreshToken(token: string): boolean {
    if (!this.#deleteRefresh(token)) return false;
    this.#counters.revocations++;
    return true;
  }

  /** The live access token named by an `Authorization: Zoho-oauthtoken <t>` header, else null. */
  authenticate(authorization: string | undefined): AccessRecord | null {
    const match = authorization ? /^Zoho-oauthtoken\s+(\S+)\s*$/i.exec(authorization) : null;
    const token = match?.[1];
    const record = token ? this.#access.get(token) : undefined;
    if (!record || !token) return null;
    if (record.expiresAt <= this.clock.now()) {
      this.#access.delete(token);
      record.refresh?.accessTokens.delete(token);
      return null;
    }
    return record;
  }

  /** Makes every issued access token invalid. Returns how many there were. */
  expireAccessTokens(): number {
    const n = this.#access.size;
    this.#access.clear();
    for (const record of this.#refresh.values()) record.accessTokens.clear();
    return n;
  }

  invalidateAccessToken(token: string): boolean {
    const record = this.#access.get(token);
    if (!record) return false;
    this.#access.delete(token);
    record.refresh?.accessTokens.delete(token);
    return true;
  }

  countApiCall(rejected: boolean, product = 'crm'): void {
    this.#counters.apiCalls++;
    const byProduct = this.#counters.apiCallsByProduct;
    byProduct[product] = (byProduct[product] ?? 0) + 1;
    if (rejected) this.#counters.apiRejected++;
  }

  /** A snapshot: later requests do not change it. */
  get counters(): EmulatorCounters {
    const c = this.#counters;
    return {
      ...c,
      refreshesByToken: { ...c.refreshesByToken },
      rejected: { ...c.rejected },
      apiCallsByProduct: { ...c.apiCallsByProduct },
    };
  }

  resetCounters(): void {
    this.#counters = emptyCounters();
  }

  /** Sizes of what the emulator holds (no secrets). */
  sizes(): { clients: number; users: number; grants: number; refreshTokens: number; accessTokens: number } {
    return {
      clients: this.#clients.size,
      users: this.#users.size,
      grants: this.#grants.size,
      refreshTokens: this.#refresh.size,
      accessTokens: this.#access.size,
    };
  }
}
