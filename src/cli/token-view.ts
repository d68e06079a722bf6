/**
 * How a stored token is shown: expiry status in words ("valid 54m", "expired 3h ago", "no access
 * token", decided by token.ts isExpired, the one expiry rule), a shortened client id, and every
 * secret redacted, in tables and in JSON alike.
 */
import { isClientCredentialsToken } from '../zoho/client-credentials-grant.js';
import { InvalidArgumentError } from 'commander';
import { UntrustedHostError } from '../errors.js';
import { isExpired, type OAuthToken, redact, redactToken, type StoredToken } from '../token.js';
import { ZohoHosts } from '../zoho/hosts.js';

/** Zoho's table only: what a token's DC is when the command was given no --dc or --accounts-url. */
const DEFAULT_HOSTS = new ZohoHosts();

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration in the largest sensible units: "45s", "54m", "3h 5m", "2d 4h". */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return `${Math.floor(abs / SECOND)}s`;
  if (abs < HOUR) return `${Math.floor(abs / MINUTE)}m`;
  if (abs < DAY) {
    const h = Math.floor(abs / HOUR);
    const m = Math.floor((abs % HOUR) / MINUTE);
    return m > 0 ? `${h}h ${m}m` : `${h}h`;
  }
  const d = Math.floor(abs / DAY);
  const h = Math.floor((abs % DAY) / HOUR);
  return h > 0 ? `${d}d ${h}h` : `${d}d`;
}

const UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };

/** Parses "30d", "12h", "90m", "45s", "2w" (commander argument parser: bad input is a usage error). */
export function parseDuration(text: string): number {
  const match = /^\s*(\d{1,9})\s*(ms|s|m|h|d|w)\s*$/i.exec(text);
  const unit = match?.[2]?.toLowerCase();
  if (!match || unit === undefined) {
    throw new InvalidArgumentError('expected a number and a unit, e.g. 30d, 12h, 90m, 45s or 2w');
  }
  return Number(match[1]) * (UNITS[unit] ?? 1);
}

export type ExpiryState = 'valid' | 'expired' | 'no-access-token';

export interface ExpiryStatus {
  state: ExpiryState;
  /** "valid 54m", "expired 3h ago", "no access token", "expired (no expiry time)". */
  text: string;
}

export function expiryStatus(token: OAuthToken, now: number): ExpiryStatus {
  if (!token.accessToken) return { state: 'no-access-token', text: 'no access token' };
  if (token.expiryTime === undefined) return { state: 'expired', text: 'expired (no expiry time)' };
  if (isExpired(token, now)) return { state: 'expired', text: `expired ${formatDuration(now - token.expiryTime)} ago` };
  return { state: 'valid', text: `valid ${formatDuration(token.expiryTime - now)}` };
}

/** A client id short enough for a table column; client ids are not secret, just long. */
export function shortClientId(clientId: string | undefined): string {
  if (!clientId) return '-';
  return clientId.length <= 16 ? clientId : `${clientId.slice(0, 9)}…${clientId.slice(-4)}`;
}

/** The columns of `ztoken list` and the demo's table. */
export const TOKEN_TABLE_HEAD = ['id', 'user', 'client', 'kind', 'dc', 'api domain', 'expiry'];

/** What keeps a token alive: a refresh token, or a self-client client-credentials grant. */
export function tokenKind(token: StoredToken): string {
  if (isClientCredentialsToken(token)) return 'client-credentials';
  return token.refreshToken ? 'refresh' : 'access-only';
}

/**
 * A token's data center in words, decided by the one rule of src/zoho/hosts.ts: `EU`,
 * `AU sandbox`, `US (default)` for a token that names none, `untrusted host` for a tampered one.
 */
export function dataCenterLabel(token: StoredToken, hosts: ZohoHosts = DEFAULT_HOSTS): string {
  try {
    const where = hosts.locate(token.apiDomain);
    const env = where.environment === 'production' ? '' : ` ${where.environment}`;
    return `${where.dataCenter}${env}${where.source === 'configured' ? ' (default)' : ''}`;
  } catch (error) {
    if (error instanceof UntrustedHostError) return 'untrusted host';
    throw error;
  }
}

export function tokenRow(
  token: StoredToken,
  now: number,
  paint?: (state: ExpiryState, text: string) => string,
  hosts: ZohoHosts = DEFAULT_HOSTS,
): string[] {
  const status = expiryStatus(token, now);
  return [
    token.id,
    token.userName ?? '-',
    shortClientId(token.clientId),
    tokenKind(token),
    dataCenterLabel(token, hosts),
    token.apiDomain ?? '-',
    paint ? paint(status.state, status.text) : status.text,
  ];
}

/** The JSON form of a token: secrets redacted, plus the expiry in words and as ISO time. */
export function tokenJson(token: StoredToken, now: number, hosts: ZohoHosts = DEFAULT_HOSTS): Record<string, unknown> {
  const status = expiryStatus(token, now);
  return {
    ...redactToken(token),
    dataCenter: dataCenterLabel(token, hosts),
    kind: tokenKind(token),
    expiresAt: token.expiryTime === undefined ? null : new Date(token.expiryTime).toISOString(),
    expiry: status.text,
    expiryState: status.state,
  };
}

/** Name and value pairs for `ztoken show` (secrets redacted). */
export function tokenDetails(token: StoredToken, now: number, hosts: ZohoHosts = DEFAULT_HOSTS): [string, string][] {
  const status = expiryStatus(token, now);
  const expiry = token.expiryTime === undefined ? '-' : `${new Date(token.expiryTime).toISOString()} (${status.text})`;
  return [
    ['id', token.id],
    ['user name', token.userName ?? '-'],
    ['client id', token.clientId ?? '-'],
    ['client secret', token.clientSecret ? redact(token.clientSecret) : '-'],
    ['refresh token', token.refreshToken ? redact(token.refreshToken) : '-'],
    ['access token', token.accessToken ? redact(token.accessToken) : '-'],
    ['grant token', token.grantToken ? redact(token.grantToken) : '-'],
    ['expiry', expiry],
    ['redirect url', token.redirectUrl ?? '-'],
    ['data center', dataCenterLabel(token, hosts)],
    ['api domain', token.apiDomain ?? '-'],
  ];
}

/** Colours an expiry status: valid green, expired yellow, no access token dim. */
export function expiryPainter(c: { green(s: string): string; yellow(s: string): string; dim(s: string): string }) {
  return (state: ExpiryState, text: string): string =>
    state === 'valid' ? c.green(text) : state === 'expired' ? c.yellow(text) : c.dim(text);
}
