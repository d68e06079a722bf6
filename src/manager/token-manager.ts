/**
 * TokenManager: serves access tokens from an in-process cache, refreshes them before they expire
 * (one refresh per token per process however many callers wait, and one per fleet when the store
 * can lock), retries an API call once after a 401 INVALID_TOKEN, and keeps every failure typed.
 * See docs/refresh.md for the rule and its diagram.
 */
import { encryptedFieldsOf } from '../crypto/cipher.js';
import {
  GrantSpentError,
  NoRefreshTokenError,
  ReauthorizationRequiredError,
  TokenStoreError,
  ZohoNetworkError,
  ZohoOAuthError,
  ZohoThrottleError,
  UntrustedHostError,
  ZTokenError,
} from '../errors.js';
import { grantLockKey, refreshLockKey } from '../lock-keys.js';
import { isStaleReauthMark, type ReauthMark, reauthMarkOf } from '../reauth-marks.js';
import { supportsLocking, supportsReauthMarks, type TokenStore } from '../store.js';
import { isExpired, type OAuthToken, redact, scrubSecrets, secretsOf, type StoredToken } from '../token.js';
import { AccountsClient, type TokenGrant } from '../zoho/accounts.js';
import { type DeviceFlowInput, runDeviceFlow } from './device-flow.js';
import {
  type ClientCredentialsGrant,
  encodeClientCredentialsGrant,
  parseClientCredentialsGrant,
} from '../zoho/client-credentials-grant.js';
import { type DataCenter, type Environment, parseDataCenter } from '../zoho/datacenter.js';
import { type DataCenterUrlOverrides, type TokenLocation, ZohoHosts } from '../zoho/hosts.js';
import { organizationParameterOf, parseProduct, type ZohoProduct } from '../zoho/products.js';
import { type AutoRefreshOptions, type StopAutoRefresh, startAutoRefresh } from './auto-refresh.js';
import { type TokenEventInfo, type TokenManagerEvents, TypedEmitter } from './events.js';
import { describeSelector, findBySelector, matchesSelector, sameIdentity, selectorKey, type TokenSelector } from './selector.js';
import { scrubbingStore } from './scrubbing-store.js';
import { fetchUserName } from './user-identity.js';

export interface Logger {
  debug?(message: string): void;
  info?(message: string): void;
  warn?(message: string): void;
  error?(message: string): void;
}

/** What Zoho's login redirect carries besides the code: the user's DC (`location`, `accounts-server`). */
export interface AuthorizeInput {
  grantToken?: string;
  /** Self-client credentials instead of a grant token: an access token only, re-got on expiry. */
  clientCredentials?: ClientCredentialsGrant;
  userName?: string;
  /** Zoho's `accounts-server` redirect parameter: the exchange goes there (if it is a Zoho server). */
  accountsServer?: string;
  /** Zoho's `location` redirect parameter (`us`, `eu`, `in`, ...). */
  location?: string;
}

/** `fetch()` options beyond RequestInit. */
export interface ManagerFetchInit extends RequestInit {
  /** Resolve a relative path against this product's API base for the token's DC (default: the API domain). */
  product?: ZohoProduct;
  /** Books and Inventory: the `organization_id` query parameter; Desk: the `orgId` header. */
  organizationId?: string;
  /** Send the access token to a full URL outside the token's DC's Zoho hosts, on purpose. */
  allowAnyHost?: boolean;
}

export interface TokenManagerOptions {
  store: TokenStore;
  clientId: string;
  clientSecret: string;
  redirectUrl?: string;
  dataCenter?: DataCenter;
  environment?: Environment;
  /** Overrides the configured data center's accounts server (e.g. the emulator's url). */
  accountsUrl?: string;
  /** Overrides the configured data center's API domain (default: the origin of `accountsUrl`). */
  apiDomain?: string;
  /**
   * Replaces the table entries of these DCs (tests: one emulator per DC on loopback). Secrets go
   * only to Zoho's table servers and to these; see docs/data-centers.md.
   */
  dataCenterUrls?: DataCenterUrlOverrides;
  fetch?: typeof fetch;
  /** The clock, epoch ms (default Date.now). */
  now?: () => number;
  /** Refresh this long before expiry (default 5 minutes). */
  refreshSkewMs?: number;
  /** Lock ttl for a fleet-wide refresh (default 30 s): a crashed holder delays others at most this long. */
  lockTtlMs?: number;
  /** Timeout of each call to Zoho's accounts server (default 15 s). */
  timeoutMs?: number;
  /** Coordinate refreshes across processes through the store's lock (default true). */
  coordinate?: boolean;
  /** Name users `email:zgid` as the official SDKs do when authorize() is given no userName (default true). */
  resolveUserName?: boolean;
  logger?: Logger;
}

const DEFAULT_SKEW_MS = 5 * 60_000;
/**
 * Inside the skew window a token that still has this long to live is served at once while one
 * refresh runs in the background; closer to expiry than this, callers wait for the refresh.
 */
const MAX_GRACE_MS = 30_000;
/**
 * A refresh refused with invalid_client or invalid_code may mean a wrong DC (each DC knows only its
 * own clients and tokens): the error says which accounts server was asked, for which DC.
 */
function withWhereAsked(error: Error, accountsUrl: string, where: TokenLocation): Error {
  if (!(error instanceof ZohoOAuthError) || (error.zohoError !== 'invalid_client' && error.zohoError !== 'invalid_code')) return error;
  return new ZohoOAuthError(
    error.zohoError,
    error.status,
    `${error.message}. Asked accounts server ${accountsUrl}, the one of the token's data center ${where.dataCenter} (from its api domain ${where.apiDomain}); ` +
      'if the client or token belongs to another data center, that DC answers this same error',
    { cause: error },
  );
}

/** The reason of the in-process mark of a token that has no refresh token at all (never persisted). */
const NO_REFRESH_TOKEN = 'no_refresh_token';

/** Zoho's answers to a refresh token it no longer accepts (revoked, or displaced by a 21st). */
const REJECTED_REFRESH = new Set(['invalid_code', 'invalid_token', 'invalid_grant']);

export class TokenManager extends TypedEmitter<TokenManagerEvents> {
  readonly store: TokenStore;
  /** The Zoho servers of every DC, and the rule that decides a token's DC (src/zoho/hosts.ts). */
  readonly hosts: ZohoHosts;
  /** The store as this manager calls it: foreign errors scrubbed of secrets (scrubbing-store.ts). */
  private readonly io: TokenStore;
  /** The accounts client of the configured DC (each token uses its own DC's: accountsFor()). */
  readonly accounts: AccountsClient;
  /** The API domain of tokens that name none. */
  readonly apiDomain: string;
  private readonly accountsClients = new Map<string, AccountsClient>();
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly redirectUrl: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly skewMs: number;
  private readonly graceMs: number;
  private readonly lockTtlMs: number;
  private readonly timeoutMs: number;
  private readonly coordinate: boolean;
  private readonly resolveUserName: boolean;
  private readonly logger: Logger;
  /** selector key -> token id, and token id -> the token as last seen. */
  private readonly selectorIds = new Map<string, string>();
  private readonly tokens = new Map<string, StoredToken>();
  /** One refresh per token id, and one exchange per grant token, in this process. */
  private readonly inflight = new Map<string, Promise<StoredToken>>();
  private readonly exchanges = new Map<string, Promise<StoredToken>>();
  /** Throttled refreshes back off until this time, per token id. */
  private readonly backoffUntil = new Map<string, number>();
  /**
   * Token id -> the mark of the refresh token Zoho rejected (seen here, or persisted by another
   * process and read before a refresh): that token needs a new authorization.
   */
  private readonly rejectedRefresh = new Map<string, ReauthMark>();
  /** Access tokens an API call was refused with: never served again, even before their expiry. */
  private readonly rejectedAccess = new Set<string>();
  /** Errors already emitted, so a failure is reported once however many paths see it. */
  private readonly reported = new WeakSet<Error>();

  constructor(options: TokenManagerOptions) {
    super();
    if (!options || typeof options !== 'object') throw new ZTokenError('CONFIG', 'INVALID_OPTIONS', 'TokenManager needs an options object');
    if (!options.store) throw new ZTokenError('CONFIG', 'MISSING_STORE', 'TokenManager needs a store (e.g. new SQLiteStore())');
    if (typeof options.clientId !== 'string' || options.clientId === '') {
      throw new ZTokenError('CONFIG', 'MISSING_CLIENT_ID', 'TokenManager needs clientId (ZOHO_CLIENT_ID)');
    }
    if (typeof options.clientSecret !== 'string' || options.clientSecret === '') {
      throw new ZTokenError('CONFIG', 'MISSING_CLIENT_SECRET', 'TokenManager needs clientSecret (ZOHO_CLIENT_SECRET)');
    }
    this.store = options.store;
    this.io = scrubbingStore(options.store, options.clientSecret);
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.redirectUrl = options.redirectUrl;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
    this.skewMs = options.refreshSkewMs ?? DEFAULT_SKEW_MS;
    this.graceMs = Math.min(MAX_GRACE_MS, this.skewMs);
    this.lockTtlMs = options.lockTtlMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.coordinate = options.coordinate ?? true;
    this.resolveUserName = options.resolveUserName ?? true;
    this.logger = options.logger ?? {};
    this.hosts = new ZohoHosts({
      dataCenter: options.dataCenter,
      environment: options.environment,
      dataCenterUrls: options.dataCenterUrls,
      accountsUrl: options.accountsUrl,
      apiDomain: options.apiDomain,
    });
    this.apiDomain = this.hosts.defaultApiDomain;
    this.accounts = this.accountsFor(this.hosts.dataCenter);
  }

  /** The configured DC: tokens that name none live there. */
  get dataCenter(): DataCenter {
    return this.hosts.dataCenter;
  }

  /**
   * Where a token lives (its DC, accounts server and API domain), decided from its apiDomain,
   * else the configured DC. Throws UntrustedHostError (code UNTRUSTED_HOST) for a host that is
   * neither Zoho's nor a configured override.
   */
  locate(token: Pick<OAuthToken, 'apiDomain'>): TokenLocation {
    return this.hosts.locate(token.apiDomain);
  }

  /** The accounts client of a DC (or of a token's location): refresh and revoke go there. */
  accountsFor(where: DataCenter | TokenLocation): AccountsClient {
    const accountsUrl = typeof where === 'string' ? this.hosts.accountsUrlOf(where) : where.accountsUrl;
    let client = this.accountsClients.get(accountsUrl);
    if (!client) {
      client = new AccountsClient({
        accountsUrl,
        clientId: this.clientId,
        clientSecret: this.clientSecret,
        redirectUrl: this.redirectUrl,
        fetch: this.fetchImpl,
        timeoutMs: this.timeoutMs,
      });
      this.accountsClients.set(accountsUrl, client);
    }
    return client;
  }

  /**
   * Exchanges a grant token (authorization code) and saves the result. A grant token already in
   * the store is not exchanged again (it is single-use): the stored token is returned. One
   * exchange per code in this process, and one per fleet under the store's lock, so workers that
   * all start with the same code do not spend it several times.
   */
  authorize(input: AuthorizeInput): Promise<StoredToken> {
    if (input?.clientCredentials) {
      let code: string;
      try {
        code = encodeClientCredentialsGrant(input.clientCredentials);
      } catch (error) {
        return Promise.reject(error);
      }
      // The encoded grant is this token's identity: the stored row is found (and renewed) by it.
      return this.getToken({ grantToken: code });
    }
    if (!input || typeof input.grantToken !== 'string' || input.grantToken === '') {
      return Promise.reject(
        new TokenStoreError('INVALID_ARGUMENT', 'authorize needs a grantToken (the code from Zoho)', { field: 'grantToken' }),
      );
    }
    let dataCenter: DataCenter;
    try {
      dataCenter = this.dataCenterOfRedirect(input);
    } catch (error) {
      return Promise.reject(error);
    }
    const code = input.grantToken;
    const running = this.exchanges.get(code);
    if (running) return running;
    const exchange = () => this.exchangeOnce(code, input.userName, dataCenter);
    const store = this.io;
    const flight = (
      this.coordinate && supportsLocking(store) ? store.withLock(grantLockKey(this.clientId, code), this.lockTtlMs, exchange) : exchange()
    ).finally(() => this.exchanges.delete(code));
    this.exchanges.set(code, flight);
    return flight;
  }

  /** A valid access token for the selected token: from the cache, the store, or a refresh. */
  async getAccessToken(selector: TokenSelector): Promise<string> {
    const token = await this.getToken(selector);
    if (!token.accessToken) throw new ReauthorizationRequiredError(`No access token for ${describeSelector(selector)}`, token.id);
    return token.accessToken;
  }

  /**
   * The selected token. Within `refreshSkewMs` of expiry one refresh starts; a token that still
   * has more than the grace period to live is served meanwhile, else callers wait for the refresh.
   */
  async getToken(selector: TokenSelector): Promise<StoredToken> {
    const key = selectorKey(selector);
    const id = this.selectorIds.get(key);
    if (id !== undefined) {
      const cached = this.tokens.get(id);
      if (cached) {
        const now = this.now();
        if (this.usable(cached, now, this.skewMs)) return cached;
        // A refresh is running, or cannot run yet: keep serving the still-valid token.
        if (this.usable(cached, now, this.graceMs) && (this.inflight.has(id) || this.cannotRefreshYet(cached, now))) return cached;
      }
    }
    let token = id !== undefined ? await this.io.findTokenById(id) : null;
    // An id can be reused after its token was deleted: never serve another user's token.
    if (token && !matchesSelector(token, selector)) token = null;
    if (!token) token = await findBySelector(this.io, selector, { clientId: this.clientId, clientSecret: this.clientSecret });
    if (!token) {
      if (id !== undefined) this.forget(id);
      if ('grantToken' in selector) return this.authorize({ grantToken: selector.grantToken });
      throw new TokenStoreError('NOT_FOUND', `No stored token for ${describeSelector(selector)}`);
    }
    if (id !== undefined && id !== token.id) this.forget(id);
    // Ciphertext must not reach Zoho, as a bearer token or a refresh token.
    refuseCiphertext(token, 'use');
    this.locate(token); // a tampered apiDomain is refused before the token is served or refreshed
    this.remember(token, selector);
    const now = this.now();
    if (this.usable(token, now, this.skewMs)) return token;
    if (this.usable(token, now, this.graceMs)) {
      if (!this.cannotRefreshYet(token, now)) this.refreshInBackground(token);
      return token;
    }
    return this.refreshOnce(token, null);
  }

  /** Resolves when no refresh started by this manager is still running (for tests and shutdown). */
  async settle(): Promise<void> {
    while (this.inflight.size > 0 || this.exchanges.size > 0) {
      await Promise.allSettled([...this.inflight.values(), ...this.exchanges.values()]);
    }
  }

  /**
   * fetch() with `Authorization: Zoho-oauthtoken ...`. A relative URL is resolved against the
   * token's API domain. On 401 INVALID_TOKEN the token is refreshed once (unless another caller
   * already replaced it) and the call retried once; if no new token can be had (throttled, Zoho
   * unreachable), that error is thrown rather than a retry with the refused token.
   */
  async fetch(selector: TokenSelector, url: string | URL, init: ManagerFetchInit = {}): Promise<Response> {
    const { product, organizationId, allowAnyHost, ...rest } = init;
    const token = await this.getToken(selector);
    const where = this.locate(token);
    const target = this.resolveTarget(url, where, product, allowAnyHost === true);
    const withOrg = product && organizationId !== undefined ? withOrganization(target, rest, parseProduct(product), organizationId) : null;
    const base = withOrg?.init ?? rest;
    // A stream body can be sent only once: read it so the retry can send it again.
    const request = base.body instanceof ReadableStream ? { ...base, body: await new Response(base.body).arrayBuffer() } : base;
    return this.fetchWithRetry(selector, token, withOrg?.url ?? target, request);
  }

  private async fetchWithRetry(selector: TokenSelector, token: StoredToken, target: string, request: RequestInit): Promise<Response> {
    const first = await this.fetchImpl(target, withAuth(request, token.accessToken ?? ''));
    if (first.status !== 401 || !(await isInvalidToken(first))) return first;
    this.logger.info?.(
      `401 INVALID_TOKEN for ${describeSelector(selector)} with access token ${redact(token.accessToken)}: refreshing once`,
    );
    if (token.accessToken) this.rejectedAccess.add(token.accessToken);
    const fresh = await this.refreshOnce(token, token.accessToken ?? '');
    return this.fetchImpl(target, withAuth(request, fresh.accessToken ?? ''));
  }

  /**
   * Revokes the refresh token at Zoho, then deletes the token locally: under the token's refresh
   * lock, after any refresh of it in this process, so a refresh finishing meanwhile cannot
   * write the revoked token back.
   */
  async revoke(selector: TokenSelector): Promise<void> {
    const token = await findBySelector(this.io, selector, { clientId: this.clientId, clientSecret: this.clientSecret });
    if (!token) throw new TokenStoreError('NOT_FOUND', `No stored token for ${describeSelector(selector)}`);
    await this.inflight.get(token.id)?.catch(() => undefined);
    const revokeCurrent = async (): Promise<StoredToken | null> => {
      const current = await this.io.findTokenById(token.id);
      if (!current || !sameIdentity(token, current)) return null; // revoked by someone else meanwhile
      refuseCiphertext(current, 'revoke');
      const where = this.locate(current); // an untrusted host throws here: nothing sent, nothing deleted
      if (current.refreshToken) await this.revokeAtZoho(current.refreshToken, where);
      await this.io.deleteToken(current.id);
      await this.clearPersistedMark(current.id);
      return current;
    };
    const store = this.io;
    const revoked =
      this.coordinate && supportsLocking(store)
        ? await store.withLock(refreshLockKey(this.clientId, token.id), this.lockTtlMs, revokeCurrent)
        : await revokeCurrent();
    this.forget(token.id);
    if (revoked) this.emit('revoke', info(revoked));
  }

  /** Whether Zoho rejected this token's refresh token (a new authorization is needed). */
  needsReauthorization(id: string): boolean {
    const mark = this.rejectedRefresh.get(id);
    if (mark === undefined) return false;
    // A token this process no longer caches is judged by the mark alone.
    const token = this.tokens.get(id);
    return token === undefined || !isStaleReauthMark(mark, token);
  }

  /**
   * Refreshes every token of this client `aheadMs` before it expires, in the background, spread
   * out, under the store's fleet lock (auto-refresh.ts). Returns the stop function.
   */
  startAutoRefresh(options: AutoRefreshOptions = {}): StopAutoRefresh {
    return startAutoRefresh(options, {
      now: this.now,
      listTokens: async () => (await this.io.getTokens()).filter((token) => token.clientId === this.clientId),
      refresh: (token, marginMs) => this.refreshOnce(token, null, marginMs),
      backoffUntil: (id) => this.backoffUntil.get(id),
      needsReauthorization: (id) => this.needsReauthorization(id),
    });
  }

  /**
   * An API call was refused with this access token (401 INVALID_TOKEN) somewhere else (a broker
   * client): refresh once, unless the store already holds another one. Returns the current token.
   */
  async replaceRejected(selector: TokenSelector, accessToken: string): Promise<StoredToken> {
    const token = await this.getToken(selector);
    if (token.accessToken !== accessToken) return token;
    this.rejectedAccess.add(accessToken);
    return this.refreshOnce(token, accessToken);
  }

  /** Drops every cached token (the store is untouched). */
  clearCache(): void {
    this.selectorIds.clear();
    this.tokens.clear();
  }

  // -------------------------------------------------------------------------------------------

  /** Has an access token that is neither within `marginMs` of expiry nor refused by Zoho. */
  private usable(token: StoredToken, now: number, marginMs: number): boolean {
    const access = token.accessToken;
    return access !== undefined && !isExpired(token, now, marginMs) && (this.rejectedAccess.size === 0 || !this.rejectedAccess.has(access));
  }

  /** A refresh now would only be refused: backing off after a throttle, or awaiting re-authorization. */
  private cannotRefreshYet(token: StoredToken, now: number): boolean {
    const backoff = this.backoffUntil.get(token.id);
    return (backoff !== undefined && now < backoff) || this.isRejected(token);
  }

  /** Zoho rejected this token's current refresh token (a new one, from any process, clears it). */
  private isRejected(token: StoredToken): boolean {
    const mark = this.rejectedRefresh.get(token.id);
    if (mark === undefined) return false;
    if (!isStaleReauthMark(mark, token)) return true;
    this.rejectedRefresh.delete(token.id);
    return false;
  }

  /**
   * Before a refresh (the only time: cached reads never touch the marks): a mark another process
   * persisted for this token's current refresh token makes this process refuse the refresh too,
   * without asking Zoho; a stale one (the token was re-authorized since) is cleared.
   */
  private async readPersistedMark(token: StoredToken): Promise<void> {
    const store = this.io;
    const known = this.rejectedRefresh.get(token.id);
    if (!token.refreshToken || (known && !isStaleReauthMark(known, token)) || !supportsReauthMarks(store)) return;
    let mark: ReauthMark | null;
    try {
      mark = await store.getReauthMark(token.id);
    } catch (error) {
      this.report(error as Error);
      this.logger.warn?.(
        `Could not read the re-authorization mark of token id ${token.id}: ${this.scrub((error as Error).message, token)}`,
      );
      return;
    }
    if (!mark) return;
    if (isStaleReauthMark(mark, token)) await this.clearPersistedMark(token.id);
    else this.rejectedRefresh.set(token.id, mark);
  }

  /** Persists a rejection for the fleet and doctor; best effort: a store failure is reported, never thrown. */
  private async persistMark(mark: ReauthMark, token: StoredToken): Promise<void> {
    const store = this.io;
    if (!supportsReauthMarks(store)) return;
    try {
      await store.setReauthMark(mark);
    } catch (error) {
      this.report(error as Error);
      this.logger.error?.(
        `Could not record in the store that token id ${token.id} needs re-authorization: ${this.scrub((error as Error).message, token)}`,
      );
    }
  }

  /** Removes a token's persisted mark, best effort (a stale mark is ignored by every reader anyway). */
  private async clearPersistedMark(id: string): Promise<void> {
    const store = this.io;
    if (!supportsReauthMarks(store)) return;
    try {
      await store.clearReauthMark(id);
    } catch (error) {
      this.report(error as Error);
      this.logger.warn?.(`Could not clear the re-authorization mark of token id ${id}: ${this.scrub((error as Error).message)}`);
    }
  }

  /** The invalid_code answer to an exchange, with its likely causes and any stored token that already spent the code. */
  private async spentGrant(code: string, error: ZohoOAuthError): Promise<GrantSpentError> {
    const holder = (await this.io.getTokens()).find((t) => t.grantToken === code);
    const already = holder
      ? ` This grant token was already exchanged into stored token id ${holder.id}${holder.userName ? ` (${holder.userName})` : ''}: use that token instead.`
      : '';
    return new GrantSpentError(
      error.status,
      `Zoho rejected grant token ${redact(code)} (invalid_code): a grant token is valid for 3 minutes and for one use, so it has expired or was already used; generate a new one.${already}`,
      holder?.id,
      { cause: error },
    );
  }

  /** An authorization URL that yields a refresh token: access_type=offline and prompt=consent. */
  private loginUrlFor(dataCenter: DataCenter): string {
    const url = new URL(`${this.accountsFor(dataCenter).accountsUrl}/oauth/v2/auth`);
    url.searchParams.set('client_id', this.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', 'ZohoCRM.modules.ALL');
    url.searchParams.set('access_type', 'offline');
    url.searchParams.set('prompt', 'consent');
    if (this.redirectUrl) url.searchParams.set('redirect_uri', this.redirectUrl);
    return url.toString();
  }

  /** The DC named by Zoho's redirect (`accounts-server`, `location`), else the configured one. */
  private dataCenterOfRedirect(input: AuthorizeInput): DataCenter {
    const fromServer = input.accountsServer ? this.hosts.dataCenterOfAccountsServer(input.accountsServer) : undefined;
    const fromLocation = input.location ? parseDataCenter(input.location) : undefined;
    if (fromServer && fromLocation && fromServer !== fromLocation) {
      throw new ZTokenError(
        'CONFIG',
        'INVALID_DATA_CENTER',
        `authorize was given accounts server ${input.accountsServer} (${fromServer}) and location ${input.location} (${fromLocation}), which disagree`,
      );
    }
    return fromServer ?? fromLocation ?? this.hosts.dataCenter;
  }

  private async exchangeOnce(code: string, userName: string | undefined, dataCenter: DataCenter): Promise<StoredToken> {
    // Re-read (under the grant lock): another process may have exchanged this code already.
    const existing = await this.io.findToken({ clientId: this.clientId, clientSecret: this.clientSecret, grantToken: code });
    if (existing && (existing.refreshToken || existing.accessToken)) {
      this.remember(existing, { grantToken: code });
      return existing;
    }
    const selfClient = parseClientCredentialsGrant(code);
    let grant: TokenGrant;
    try {
      grant = selfClient
        ? await this.accountsFor(dataCenter).clientCredentials(selfClient.soid, selfClient.scopes)
        : await this.accountsFor(dataCenter).exchangeGrant(code);
    } catch (error) {
      if (error instanceof ZohoOAuthError && error.zohoError === 'invalid_code' && !selfClient) throw await this.spentGrant(code, error);
      throw error;
    }
    if (!selfClient && !grant.refreshToken) {
      const url = this.loginUrlFor(dataCenter);
      throw new NoRefreshTokenError(
        `Zoho exchanged grant token ${redact(code)} but sent no refresh token, so the token could not be kept alive; nothing was stored. ` +
          `Log in again with access_type=offline&prompt=consent, for example: ${url}`,
        url,
      );
    }
    return this.saveGrant(grant, { grantToken: code, userName, dataCenter, existing: existing ?? undefined });
  }

  /** Saves the tokens of an exchange (grant code or device flow) as a user's row in its DC. */
  private async saveGrant(
    grant: TokenGrant,
    from: { grantToken?: string; userName: string | undefined; dataCenter: DataCenter; existing?: StoredToken },
  ): Promise<StoredToken> {
    const { grantToken: code, userName, dataCenter, existing } = from;
    // The answer's api_domain names the user's DC and wins; it is checked like any stored value.
    const apiDomain = grant.apiDomain ?? this.hosts.apiDomainOf(dataCenter);
    const where = this.hosts.locate(apiDomain);
    let name = userName;
    if (!name && this.resolveUserName) name = await this.lookUpUserName(where.apiDomain, grant.accessToken);
    const token: OAuthToken = {
      ...(existing ?? {}),
      userName: name,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      refreshToken: grant.refreshToken,
      accessToken: grant.accessToken,
      // Kept so a restart with the same grant token finds this row instead of reusing a spent code.
      grantToken: code,
      expiryTime: this.now() + grant.expiresInMs,
      redirectUrl: this.redirectUrl,
      apiDomain,
    };
    // Re-authorizing a known user replaces that user's row (matched by user name).
    const saved = await this.io.saveToken(token);
    this.rejectedRefresh.delete(saved.id);
    this.backoffUntil.delete(saved.id);
    // A new refresh token voids any mark (isStaleReauthMark); clearing it keeps the store tidy.
    await this.clearPersistedMark(saved.id);
    this.remember(saved, code ? { grantToken: code } : { id: saved.id });
    this.emit('save', info(saved));
    return saved;
  }

  /**
   * Zoho's device flow (for CLIs and headless servers): shows a user code through `onPrompt`,
   * polls until the user approves (device-flow.ts), then saves the token with its DC.
   */
  async authorizeWithDevice(input: DeviceFlowInput & { userName?: string }): Promise<StoredToken> {
    if (!input || !Array.isArray(input.scopes) || input.scopes.length === 0 || typeof input.onPrompt !== 'function') {
      throw new TokenStoreError('INVALID_ARGUMENT', 'authorizeWithDevice needs scopes (a non-empty array) and an onPrompt function', {
        field: 'scopes',
      });
    }
    const deps = { accounts: this.accounts, accountsFor: (dc: DataCenter) => this.accountsFor(dc), dataCenter: this.hosts.dataCenter };
    const { grant, dataCenter } = await runDeviceFlow(deps, input);
    if (!grant.refreshToken) {
      const url = this.loginUrlFor(dataCenter);
      throw new NoRefreshTokenError(
        `Zoho approved the device login but sent no refresh token, so the token could not be kept alive; nothing was stored. Log in again with access_type=offline&prompt=consent, for example: ${url}`,
        url,
      );
    }
    return this.saveGrant(grant, { userName: input.userName, dataCenter });
  }

  private refreshInBackground(token: StoredToken): void {
    // Failures are reported as events (and logged); callers keep the still-valid token.
    this.refreshOnce(token, null).catch((error: Error) => {
      this.logger.warn?.(`Background refresh of token id ${token.id} failed: ${this.scrub(error.message, token)}`);
      this.report(error);
    });
  }

  /**
   * One refresh per token id in this process. `rejected` is the access token an API call was
   * refused with: then refresh only if the store still holds that one; else only if expiring.
   */
  private refreshOnce(token: StoredToken, rejected: string | null, marginMs = this.skewMs): Promise<StoredToken> {
    const running = this.inflight.get(token.id);
    if (running) return running;
    const flight = this.refreshCoordinated(token, rejected, marginMs).finally(() => this.inflight.delete(token.id));
    this.inflight.set(token.id, flight);
    return flight;
  }

  private async refreshCoordinated(token: StoredToken, rejected: string | null, marginMs: number): Promise<StoredToken> {
    const id = token.id;
    const decideAndRefresh = async (): Promise<StoredToken> => {
      // Re-read after taking the lock: another process may have refreshed already.
      const current = await this.io.findTokenById(id);
      if (!current || !sameIdentity(token, current)) {
        this.forget(id);
        throw new TokenStoreError('NOT_FOUND', `Token id ${id} is no longer stored (deleted, revoked or replaced)`);
      }
      const stillNeeded =
        rejected !== null ? current.accessToken === rejected || !current.accessToken : !this.usable(current, this.now(), marginMs);
      if (!stillNeeded) {
        this.remember(current);
        return current;
      }
      return this.refreshNow(current, rejected);
    };
    const store = this.io;
    if (this.coordinate && supportsLocking(store))
      return store.withLock(refreshLockKey(this.clientId, id), this.lockTtlMs, decideAndRefresh);
    return decideAndRefresh();
  }

  private async refreshNow(token: StoredToken, rejected: string | null): Promise<StoredToken> {
    const now = this.now();
    // The token still works: unexpired, and not the one an API call was just refused with.
    const stillValid = this.usable(token, now, 0) && token.accessToken !== rejected;
    const backoff = this.backoffUntil.get(token.id);
    if (backoff !== undefined && now < backoff) {
      if (stillValid) return token;
      throw new ZohoThrottleError(`Refresh of token id ${token.id} is backing off after Zoho throttled it`, backoff - now);
    }
    await this.readPersistedMark(token);
    if (this.isRejected(token)) {
      const mark = this.rejectedRefresh.get(token.id);
      const why = mark && mark.reason !== NO_REFRESH_TOKEN ? ` (${mark.reason}, ${new Date(mark.markedAt).toISOString()})` : '';
      throw new ReauthorizationRequiredError(
        `Token id ${token.id} needs a new authorization: Zoho rejected its refresh token${why}`,
        token.id,
      );
    }
    const selfClient = token.refreshToken ? null : parseClientCredentialsGrant(token.grantToken);
    if (!token.refreshToken && !selfClient) {
      if (token.grantToken && !token.accessToken) return this.authorize({ grantToken: token.grantToken, userName: token.userName });
      this.rejectedRefresh.set(token.id, reauthMarkOf(token, NO_REFRESH_TOKEN, this.now()));
      throw new ReauthorizationRequiredError(`Token id ${token.id} has no refresh token: authorize again`, token.id);
    }
    refuseCiphertext(token, 'refresh');
    const where = this.locate(token); // an untrusted host throws here, before any request
    let grant: TokenGrant;
    try {
      // A self-client token has no refresh token: the same client_credentials grant is asked again.
      const accounts = this.accountsFor(where);
      grant = selfClient
        ? await accounts.clientCredentials(selfClient.soid, selfClient.scopes)
        : await accounts.refresh(token.refreshToken ?? '');
    } catch (error) {
      return await this.absorbRefreshFailure(token, withWhereAsked(error as Error, this.accountsFor(where).accountsUrl, where), stillValid);
    }
    if (grant.apiDomain) this.hosts.locate(grant.apiDomain);
    this.backoffUntil.delete(token.id);
    this.rejectedRefresh.delete(token.id);
    if (token.accessToken) this.rejectedAccess.delete(token.accessToken);
    const refreshed: StoredToken = {
      ...token,
      accessToken: grant.accessToken,
      expiryTime: this.now() + grant.expiresInMs,
      apiDomain: grant.apiDomain ?? token.apiDomain,
      ...(grant.refreshToken ? { refreshToken: grant.refreshToken } : {}),
    };
    let saved: StoredToken;
    try {
      saved = await this.io.saveToken(refreshed);
    } catch (error) {
      // Zoho issued a valid token but the store refused it: serve it from this process so the
      // next call does not spend another refresh, and report the store failure.
      this.remember(refreshed);
      this.report(error as Error);
      this.logger.error?.(`Could not save the refreshed token id ${token.id}: ${this.scrub((error as Error).message, refreshed, token)}`);
      return refreshed;
    }
    this.remember(saved);
    this.logger.debug?.(
      `Refreshed token id ${saved.id}; access token ${redact(saved.accessToken)} valid until ${new Date(saved.expiryTime ?? 0).toISOString()}`,
    );
    this.emit('refresh', info(saved));
    this.emit('save', info(saved));
    return saved;
  }

  /** Decides what a failed refresh means: back off, serve a still-valid token, or re-authorize. */
  private async absorbRefreshFailure(token: StoredToken, error: Error, stillValid: boolean): Promise<StoredToken> {
    if (error instanceof ZohoThrottleError) {
      this.backoffUntil.set(token.id, this.now() + error.retryAfterMs);
      this.report(error);
      this.logger.warn?.(`Zoho throttled the refresh of token id ${token.id}; backing off ${error.retryAfterMs} ms`);
      if (stillValid) return token;
      throw error;
    }
    if (error instanceof ZohoOAuthError && REJECTED_REFRESH.has(error.zohoError)) {
      // Zoho rejected the refresh token itself (revoked, or displaced by a 21st one).
      const mark = reauthMarkOf(token, error.zohoError, this.now());
      this.rejectedRefresh.set(token.id, mark);
      // Kept in the store too (refresh tokens only: a self-client's grant is asked again), so the
      // fleet stops asking Zoho and `ztoken doctor` can tell.
      if (token.refreshToken) await this.persistMark(mark, token);
      const reauth = new ReauthorizationRequiredError(
        `Zoho rejected the refresh token ${redact(token.refreshToken)} of token id ${token.id} (${error.zohoError}): the user must authorize again; the stored token is kept`,
        token.id,
        { cause: error },
      );
      this.report(reauth);
      throw reauth;
    }
    // Zoho unreachable, or an answer that says nothing about this token: serve it while it works.
    const transient = error instanceof ZohoNetworkError || (error instanceof ZohoOAuthError && error.zohoError !== 'invalid_client');
    if (transient && stillValid) {
      this.report(error);
      this.logger.warn?.(`Refresh of token id ${token.id} failed (${(error as ZTokenError).reason}); serving the still-valid access token`);
      return token;
    }
    throw error;
  }

  private async revokeAtZoho(refreshToken: string, where: TokenLocation): Promise<void> {
    try {
      await this.accountsFor(where).revoke(refreshToken);
    } catch (error) {
      // A token Zoho no longer knows is as good as revoked; anything else keeps the local copy.
      if (!(error instanceof ZohoOAuthError) || !REJECTED_REFRESH.has(error.zohoError)) throw error;
      this.logger.warn?.(`Zoho did not know refresh token ${redact(refreshToken)} (${error.zohoError}); deleting it locally`);
    }
  }

  /**
   * The URL an API call goes to: a relative path against the token's API domain (or the product's
   * base in its DC); a full URL only if it is a Zoho API host of the token's DC, or on purpose.
   */
  private resolveTarget(url: string | URL, where: TokenLocation, product: ZohoProduct | undefined, allowAnyHost: boolean): string {
    const text = String(url);
    if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
      if (allowAnyHost || this.hosts.isApiUrlOf(text, where)) return text;
      throw new UntrustedHostError(
        'API_URL',
        text.slice(0, 80),
        `Refusing to send the access token of a ${where.dataCenter} token to ${JSON.stringify(text.slice(0, 80))}: not a Zoho API host of ${where.dataCenter}; ` +
          'pass a path, or { allowAnyHost: true } to send it there on purpose',
      );
    }
    const base = product ? this.hosts.productBaseOf(parseProduct(product), where) : where.apiDomain;
    return `${base.replace(/\/+$/, '')}/${text.replace(/^\/+/, '')}`;
  }

  /** A text for the log without the client secret or the given tokens' secrets (a store's error may echo them). */
  private scrub(text: string, ...tokens: (OAuthToken | undefined)[]): string {
    return scrubSecrets(text, [this.clientSecret, ...tokens.flatMap((token) => secretsOf(token))]);
  }

  private report(error: Error): void {
    if (this.reported.has(error)) return;
    this.reported.add(error);
    this.emit('error', error);
  }

  private remember(token: StoredToken, selector?: TokenSelector): void {
    this.tokens.set(token.id, token);
    this.selectorIds.set(selectorKey({ id: token.id }), token.id);
    if (token.userName) this.selectorIds.set(selectorKey({ userName: token.userName }), token.id);
    if (selector) this.selectorIds.set(selectorKey(selector), token.id);
  }

  private forget(id: string): void {
    this.tokens.delete(id);
    this.rejectedRefresh.delete(id);
    this.backoffUntil.delete(id);
    for (const [key, value] of this.selectorIds) if (value === id) this.selectorIds.delete(key);
  }

  private async lookUpUserName(apiDomain: string, accessToken: string): Promise<string | undefined> {
    try {
      return await fetchUserName(apiDomain, accessToken, this.fetchImpl, this.timeoutMs);
    } catch (error) {
      this.logger.warn?.(
        `Could not read the user's name from ${apiDomain} (${this.scrub((error as Error).message, { accessToken })}); saving without one`,
      );
      return undefined;
    }
  }
}

function info(token: StoredToken): TokenEventInfo {
  return { id: token.id, userName: token.userName, apiDomain: token.apiDomain, expiryTime: token.expiryTime };
}

function withOrganization(
  url: string,
  init: RequestInit,
  product: ZohoProduct,
  organizationId: string,
): { url: string; init: RequestInit } {
  const parameter = organizationParameterOf(product);
  if (!parameter) {
    throw new ZTokenError('CONFIG', 'INVALID_OPTIONS', `Zoho ${product} takes no organization id; drop organizationId`);
  }
  if (typeof organizationId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(organizationId)) {
    throw new ZTokenError(
      'CONFIG',
      'INVALID_OPTIONS',
      `organizationId must be Zoho's organization id (digits), got ${JSON.stringify(String(organizationId).slice(0, 40))}`,
    );
  }
  if ('query' in parameter) {
    const target = new URL(url);
    target.searchParams.set(parameter.query, organizationId);
    return { url: target.toString(), init };
  }
  const headers = new Headers(init.headers);
  headers.set(parameter.header, organizationId);
  return { url, init: { ...init, headers } };
}

function withAuth(init: RequestInit, accessToken: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Zoho-oauthtoken ${accessToken}`);
  return { ...init, headers };
}

/** Zoho's 401 for a bad token: `{"code":"INVALID_TOKEN",...}`. Reads a clone, so the caller can still read the body. */
async function isInvalidToken(response: Response): Promise<boolean> {
  try {
    const body = (await response.clone().json()) as { code?: unknown };
    return body.code === 'INVALID_TOKEN';
  } catch {
    return false;
  }
}

/**
 * A token read from an encrypted store without its keys holds ciphertext: sending it to Zoho
 * would fail there at best, so the call fails here, naming the fix.
 */
function refuseCiphertext(token: StoredToken, action: string): void {
  const fields = encryptedFieldsOf(token);
  if (fields.length === 0) return;
  throw new TokenStoreError(
    'CRYPTO',
    `Cannot ${action} token id ${token.id}: its ${fields.join(', ')} ${fields.length === 1 ? 'is' : 'are'} encrypted (the store was opened without its keys); open it as an EncryptedStore, or with ?encrypt=1 and ZTOKEN_KEY_FILE / ZTOKEN_KEYS`,
  );
}
