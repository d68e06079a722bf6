/**
 * Zoho data centers (ZOHO.md "Data centers"): which accounts server and which API domain serve
 * a user. The `api_domain` of a token response names the user's DC and wins over configuration.
 */
import { ZTokenError } from '../errors.js';

export type DataCenter = 'US' | 'EU' | 'IN' | 'CN' | 'JP' | 'AU' | 'CA' | 'SA';
export type Environment = 'production' | 'sandbox' | 'developer';

export const DATA_CENTERS: readonly DataCenter[] = ['US', 'EU', 'IN', 'CN', 'JP', 'AU', 'CA', 'SA'];
export const ENVIRONMENTS: readonly Environment[] = ['production', 'sandbox', 'developer'];

interface DcInfo {
  accounts: string;
  /** The top-level domain of the API hosts (`www.zohoapis.<tld>`). */
  apiTld: string;
  /** The domain of the product hosts (`desk.<domain>`, `mail.<domain>`): Zoho's regional domain. */
  domain: string;
}

// Sources: ZOHO.md "Data centers"; Zoho's "Multi DC" guide (accounts servers, API domains) and
// each product's API docs (desk.zoho.<domain>, mail.zoho.<domain>, ...). A new DC is one row.
const TABLE: Readonly<Record<DataCenter, DcInfo>> = {
  US: { accounts: 'https://accounts.zoho.com', apiTld: 'com', domain: 'zoho.com' },
  EU: { accounts: 'https://accounts.zoho.eu', apiTld: 'eu', domain: 'zoho.eu' },
  IN: { accounts: 'https://accounts.zoho.in', apiTld: 'in', domain: 'zoho.in' },
  CN: { accounts: 'https://accounts.zoho.com.cn', apiTld: 'com.cn', domain: 'zoho.com.cn' },
  JP: { accounts: 'https://accounts.zoho.jp', apiTld: 'jp', domain: 'zoho.jp' },
  AU: { accounts: 'https://accounts.zoho.com.au', apiTld: 'com.au', domain: 'zoho.com.au' },
  CA: { accounts: 'https://accounts.zohocloud.ca', apiTld: 'ca', domain: 'zohocloud.ca' },
  SA: { accounts: 'https://accounts.zoho.sa', apiTld: 'sa', domain: 'zoho.sa' },
};

const API_PREFIX: Readonly<Record<Environment, string>> = {
  production: 'www',
  sandbox: 'sandbox',
  developer: 'developer',
};

function isDataCenter(value: string): value is DataCenter {
  return Object.hasOwn(TABLE, value);
}

/** The accounts server of a DC, e.g. `https://accounts.zoho.eu`. Same for every environment. */
export function accountsUrlFor(dc: DataCenter): string {
  return TABLE[parseDataCenter(dc)].accounts;
}

/** The API domain of a DC and environment, e.g. `https://sandbox.zohoapis.com.au`. */
export function apiDomainFor(dc: DataCenter, env: Environment = 'production'): string {
  const info = TABLE[parseDataCenter(dc)];
  return `https://${API_PREFIX[parseEnvironment(env)]}.zohoapis.${info.apiTld}`;
}

/**
 * Parses a DC code, case-insensitively and trimmed (`'eu'`, `' US '`; also the `location`
 * parameter Zoho puts in its redirect, e.g. `location=us`). Throws a CONFIG error listing the
 * valid codes otherwise.
 */
export function parseDataCenter(text: unknown): DataCenter {
  const code = typeof text === 'string' ? text.trim().toUpperCase() : '';
  if (isDataCenter(code)) return code;
  const shown = typeof text === 'string' ? JSON.stringify(text.slice(0, 40)) : String(text);
  throw new ZTokenError('CONFIG', 'INVALID_DATA_CENTER', `Unknown Zoho data center ${shown}: expected one of ${DATA_CENTERS.join(', ')}`);
}

/** Parses an environment name, case-insensitively. Throws a CONFIG error listing the valid ones. */
export function parseEnvironment(text: unknown): Environment {
  const env = typeof text === 'string' ? text.trim().toLowerCase() : '';
  if ((ENVIRONMENTS as readonly string[]).includes(env)) return env as Environment;
  const shown = typeof text === 'string' ? JSON.stringify(text.slice(0, 40)) : String(text);
  throw new ZTokenError('CONFIG', 'INVALID_ENVIRONMENT', `Unknown Zoho environment ${shown}: expected one of ${ENVIRONMENTS.join(', ')}`);
}

/** Zoho's regional domain of a DC (`zoho.eu`, `zohocloud.ca`): product hosts live under it. */
export function zohoDomainFor(dc: DataCenter): string {
  return TABLE[parseDataCenter(dc)].domain;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url.includes('://') ? url : `https://${url}`).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * The DC and environment of an API domain (`https://www.zohoapis.eu` -> EU production;
 * `sandbox.zohoapis.com` -> US sandbox; a bare host is accepted). Null when not a Zoho API host.
 */
export function describeApiDomain(apiDomain: string): { dataCenter: DataCenter; environment: Environment } | null {
  if (typeof apiDomain !== 'string') return null;
  const host = hostOf(apiDomain);
  if (!host) return null;
  for (const env of ENVIRONMENTS) {
    const prefix = `${API_PREFIX[env]}.zohoapis.`;
    if (!host.startsWith(prefix)) continue;
    const tld = host.slice(prefix.length);
    for (const dc of DATA_CENTERS) if (TABLE[dc].apiTld === tld) return { dataCenter: dc, environment: env };
  }
  return null;
}

/** Reverse lookup: the DC of an API domain (any environment), or null if it is not Zoho's. */
export function dataCenterOfApiDomain(apiDomain: string): DataCenter | null {
  return describeApiDomain(apiDomain)?.dataCenter ?? null;
}

/** Reverse lookup: the DC of an accounts server URL (e.g. Zoho's `accounts-server`), or null. */
export function dataCenterOfAccountsUrl(accountsUrl: string): DataCenter | null {
  const host = hostOf(accountsUrl);
  if (!host) return null;
  for (const dc of DATA_CENTERS) if (hostOf(TABLE[dc].accounts) === host) return dc;
  return null;
}
