/**
 * Which Zoho servers a token belongs to, and whether a host may receive a secret. The one place
 * that decides a token's data center (docs/data-centers.md); the manager, the CLI and the SDK
 * adapter all ask it. A stored `apiDomain` is data, never a URL to trust: it must name a Zoho API
 * host of the table (https, default port) or an origin the program itself configured.
 */
import { UntrustedHostError, ZTokenError } from '../errors.js';
import {
  accountsUrlFor,
  apiDomainFor,
  DATA_CENTERS,
  type DataCenter,
  dataCenterOfAccountsUrl,
  describeApiDomain,
  type Environment,
  parseDataCenter,
  parseEnvironment,
} from './datacenter.js';
import { apiOriginsOf, productBasePath, productOriginFor, type ZohoProduct } from './products.js';

/** The servers that replace a DC's table entries (tests: one emulator per DC on loopback). */
export interface DataCenterUrls {
  accountsUrl: string;
  /** Default: the origin of `accountsUrl` (an emulator serves both). */
  apiDomain?: string;
}

export type DataCenterUrlOverrides = Partial<Record<DataCenter, DataCenterUrls>>;

export interface ZohoHostsOptions {
  /** The configured DC, used for tokens that name none. Default: the DC of `accountsUrl`, else US. */
  dataCenter?: DataCenter;
  environment?: Environment;
  dataCenterUrls?: DataCenterUrlOverrides;
  /** Legacy single override: the configured DC's accounts server. */
  accountsUrl?: string;
  /** Legacy single override: the configured DC's API domain. */
  apiDomain?: string;
}

/** Where a token lives: its DC and environment, and the servers its secrets and calls go to. */
export interface TokenLocation {
  dataCenter: DataCenter;
  environment: Environment;
  /** Receives the client secret and refresh token (refresh, revoke). */
  accountsUrl: string;
  /** Receives the access token (API calls). */
  apiDomain: string;
  /** How the DC was decided (docs/data-centers.md). */
  source: 'apiDomain' | 'configured';
  /** True when the DC's servers come from a code override (an emulator), not Zoho's table. */
  overridden: boolean;
}

interface Override {
  accountsUrl: string;
  apiDomain: string;
  accountsOrigin: string;
  apiOrigin: string;
}

const SHOWN_LIMIT = 80;

function shown(value: string): string {
  return JSON.stringify(value.length > SHOWN_LIMIT ? `${value.slice(0, SHOWN_LIMIT)}…` : value);
}

/** Parses a configured server URL (an override): http(s), no credentials, query or fragment. */
function parseServerUrl(value: unknown, what: string): { url: string; origin: string } {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ZTokenError('CONFIG', 'INVALID_OPTIONS', `${what} must be a URL such as https://accounts.zoho.eu`);
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ZTokenError('CONFIG', 'INVALID_OPTIONS', `${what} ${shown(value)} is not a URL (expected e.g. https://accounts.zoho.eu)`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
    throw new ZTokenError('CONFIG', 'INVALID_OPTIONS', `${what} ${shown(value)} must be a plain http(s) URL without credentials or query`);
  }
  return { url: `${url.origin}${url.pathname}`.replace(/\/+$/, ''), origin: url.origin };
}

/** The origin of a URL, or null when it is not an absolute URL. */
function originOf(value: string): string | null {
  try {
    const url = new URL(value);
    return url.origin === 'null' ? null : url.origin;
  } catch {
    return null;
  }
}

/** A Zoho table host as a stored value: `https://host` exactly, or a bare host (old SDK rows). */
function zohoApiDomain(value: string): { dataCenter: DataCenter; environment: Environment } | null {
  const text = value.trim();
  if (!text.includes('://')) return /^[a-z0-9.-]+$/i.test(text) ? describeApiDomain(text) : null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.port !== '' || url.username || url.password || url.search || url.hash) return null;
  if (url.pathname !== '/' && url.pathname !== '') return null;
  return describeApiDomain(url.hostname);
}

export class ZohoHosts {
  readonly dataCenter: DataCenter;
  readonly environment: Environment;
  readonly #overrides = new Map<DataCenter, Override>();
  readonly #defaultApiDomain: string;

  constructor(options: ZohoHostsOptions = {}) {
    this.environment = parseEnvironment(options.environment ?? 'production');
    const legacyDc = options.accountsUrl ? dataCenterOfAccountsUrl(options.accountsUrl) : null;
    this.dataCenter = parseDataCenter(options.dataCenter ?? legacyDc ?? 'US');
    for (const [key, urls] of Object.entries(options.dataCenterUrls ?? {})) {
      const dc = parseDataCenter(key);
      if (!urls || typeof urls !== 'object') {
        throw new ZTokenError('CONFIG', 'INVALID_OPTIONS', `dataCenterUrls.${dc} must be { accountsUrl, apiDomain? }`);
      }
      this.#addOverride(dc, urls.accountsUrl, urls.apiDomain, `dataCenterUrls.${dc}`);
    }
    // The single accountsUrl/apiDomain options override the configured DC, as they always did.
    // A Zoho accounts server or API host given there is the table's own entry, not an override.
    const zohoDefault = options.apiDomain && zohoApiDomain(options.apiDomain) ? options.apiDomain.replace(/\/+$/, '') : undefined;
    if (options.accountsUrl && !legacyDc) this.#addOverride(this.dataCenter, options.accountsUrl, options.apiDomain, 'accountsUrl');
    else if (options.apiDomain && !zohoDefault) {
      this.#addOverride(this.dataCenter, options.accountsUrl ?? accountsUrlFor(this.dataCenter), options.apiDomain, 'apiDomain');
    }
    this.#defaultApiDomain =
      zohoDefault ?? this.#overrides.get(this.dataCenter)?.apiDomain ?? apiDomainFor(this.dataCenter, this.environment);
  }

  #addOverride(dc: DataCenter, accountsUrl: unknown, apiDomain: unknown, what: string): void {
    const accounts = parseServerUrl(accountsUrl, `${what} accountsUrl`);
    const api = apiDomain === undefined ? accounts : parseServerUrl(apiDomain, `${what} apiDomain`);
    this.#overrides.set(dc, { accountsUrl: accounts.url, apiDomain: api.url, accountsOrigin: accounts.origin, apiOrigin: api.origin });
  }

  /** The API domain of tokens that name none: the configured DC's. */
  get defaultApiDomain(): string {
    return this.#defaultApiDomain;
  }

  /** The accounts server of a DC: its override, else Zoho's table. */
  accountsUrlOf(dc: DataCenter): string {
    return this.#overrides.get(dc)?.accountsUrl ?? accountsUrlFor(dc);
  }

  /** The API domain of a DC: its override, else Zoho's table for the environment. */
  apiDomainOf(dc: DataCenter, environment: Environment = this.environment): string {
    return this.#overrides.get(dc)?.apiDomain ?? apiDomainFor(dc, environment);
  }

  /**
   * Where a token lives, from its `apiDomain` (a Zoho API host or an override's origin), else the
   * configured DC. Throws UntrustedHostError for any other apiDomain, before anything is sent.
   */
  locate(apiDomain: string | undefined | null): TokenLocation {
    if (apiDomain === undefined || apiDomain === null || apiDomain === '') {
      return this.#location(this.dataCenter, this.environment, 'configured', undefined);
    }
    if (typeof apiDomain !== 'string') {
      throw new UntrustedHostError('API_DOMAIN', String(apiDomain), 'The stored apiDomain is not a string; nothing was sent');
    }
    const zoho = zohoApiDomain(apiDomain);
    if (zoho) return this.#location(zoho.dataCenter, zoho.environment, 'apiDomain', apiDomain);
    const dc = this.#overrideDcOfOrigin(originOf(apiDomain.trim()), 'api');
    if (dc) return this.#location(dc, this.environment, 'apiDomain', undefined);
    throw new UntrustedHostError(
      'API_DOMAIN',
      apiDomain.slice(0, SHOWN_LIMIT),
      `The token's apiDomain ${shown(apiDomain)} is not a Zoho API host (https://www.zohoapis.<dc>, sandbox. or developer.) ` +
        'nor a configured dataCenterUrls override: refusing to send its secrets there; nothing was sent or changed',
    );
  }

  /** The DC of an accounts server (Zoho's `accounts-server` redirect parameter). Throws when untrusted. */
  dataCenterOfAccountsServer(accountsServer: string): DataCenter {
    const text = typeof accountsServer === 'string' ? accountsServer.trim() : '';
    const origin = originOf(text);
    const overridden = this.#overrideDcOfOrigin(origin, 'accounts');
    if (overridden) return overridden;
    const dc = origin?.startsWith('https://') ? dataCenterOfAccountsUrl(origin) : null;
    if (dc && originOf(accountsUrlFor(dc)) === origin) return dc;
    throw new UntrustedHostError(
      'ACCOUNTS_SERVER',
      text.slice(0, SHOWN_LIMIT),
      `The accounts server ${shown(text)} is not a Zoho accounts server (${DATA_CENTERS.map((d) => accountsUrlFor(d)).join(', ')}) ` +
        'nor a configured override: refusing to send the client secret there; nothing was sent',
    );
  }

  /**
   * Whether an access token of this location may go to `url`: a Zoho API host of its DC (any
   * environment or product) or the DC's override origin.
   */
  isApiUrlOf(url: string, location: TokenLocation): boolean {
    const origin = originOf(url);
    if (!origin) return false;
    const override = this.#overrides.get(location.dataCenter);
    if (override && (origin === override.apiOrigin || origin === override.accountsOrigin)) return true;
    return origin.startsWith('https://') && apiOriginsOf(location.dataCenter).includes(origin);
  }

  /** A product's API base for a token's location: the override's origin, or the product's host in the DC. */
  productBaseOf(product: ZohoProduct, location: TokenLocation): string {
    if (location.overridden) return `${location.apiDomain}${productBasePath(product)}`;
    const origin = product === 'crm' ? location.apiDomain : productOriginFor(product, location.dataCenter, location.environment);
    return `${origin}${productBasePath(product)}`;
  }

  #location(dc: DataCenter, environment: Environment, source: TokenLocation['source'], apiDomain: string | undefined): TokenLocation {
    const override = this.#overrides.get(dc);
    return {
      dataCenter: dc,
      environment,
      source,
      overridden: override !== undefined,
      accountsUrl: override?.accountsUrl ?? accountsUrlFor(dc),
      apiDomain: override?.apiDomain ?? (apiDomain?.includes('://') ? apiDomain.trim().replace(/\/+$/, '') : apiDomainFor(dc, environment)),
    };
  }

  /** The DC whose override has this origin; the configured DC first when several share one server. */
  #overrideDcOfOrigin(origin: string | null, kind: 'api' | 'accounts'): DataCenter | null {
    if (!origin) return null;
    const matches = (o: Override) => (kind === 'api' ? o.apiOrigin === origin || o.accountsOrigin === origin : o.accountsOrigin === origin);
    const own = this.#overrides.get(this.dataCenter);
    if (own && matches(own)) return this.dataCenter;
    for (const [dc, override] of this.#overrides) if (matches(override)) return dc;
    return null;
  }
}
