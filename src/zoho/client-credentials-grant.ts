/**
 * A self-client `client_credentials` token has no refresh token. To get a new access token the
 * manager needs the same grant again (the `soid` and the scopes), so that grant is kept in the
 * token's `grant_token` column, in Zoho's own layout, as one CSV-safe string:
 *
 *   client_credentials|ZohoCRM.10234567|ZohoCRM.modules.ALL ZohoCRM.users.READ
 *
 * This file is the one place that writes or reads that string; the manager, the CLI (`list`
 * marks such tokens) and `doctor` all use it.
 */
import { TokenStoreError } from '../errors.js';

export interface ClientCredentialsGrant {
  /** Zoho's service org id, for example `ZohoCRM.10234567`. */
  soid: string;
  /** Scopes, for example `['ZohoCRM.modules.ALL']`. */
  scopes: string[];
}

const PREFIX = 'client_credentials|';
const SOID = /^Zoho[A-Za-z]+\.[0-9A-Za-z_-]{1,64}$/;
const SCOPE = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;

/** Checks a grant and returns it with its scopes trimmed, or throws naming what is wrong. */
export function validateClientCredentialsGrant(grant: ClientCredentialsGrant): ClientCredentialsGrant {
  if (!SOID.test(grant.soid)) {
    throw new TokenStoreError(
      'INVALID_TOKEN',
      `Invalid client-credentials grant: soid ${JSON.stringify(grant.soid.slice(0, 40))} is not of the form ZohoCRM.<org id>`,
      { field: 'grantToken' },
    );
  }
  const scopes = grant.scopes.map((s) => s.trim()).filter((s) => s !== '');
  if (scopes.length === 0) {
    throw new TokenStoreError('INVALID_TOKEN', 'Invalid client-credentials grant: at least one scope is required', {
      field: 'grantToken',
    });
  }
  const bad = scopes.find((s) => !SCOPE.test(s));
  if (bad !== undefined) {
    throw new TokenStoreError(
      'INVALID_TOKEN',
      `Invalid client-credentials grant: scope ${JSON.stringify(bad.slice(0, 40))} is not a Zoho scope name`,
      { field: 'grantToken' },
    );
  }
  return { soid: grant.soid, scopes };
}

/** The `grant_token` value that stands for this grant. */
export function encodeClientCredentialsGrant(grant: ClientCredentialsGrant): string {
  const { soid, scopes } = validateClientCredentialsGrant(grant);
  return `${PREFIX}${soid}|${scopes.join(' ')}`;
}

/** The grant a stored `grant_token` stands for, or null when it is an ordinary grant token. */
export function parseClientCredentialsGrant(grantToken: string | undefined): ClientCredentialsGrant | null {
  if (grantToken === undefined || !grantToken.startsWith(PREFIX)) return null;
  const [soid, scopeList, ...rest] = grantToken.slice(PREFIX.length).split('|');
  if (soid === undefined || scopeList === undefined || rest.length > 0) return null;
  try {
    return validateClientCredentialsGrant({ soid, scopes: scopeList.split(' ') });
  } catch {
    return null;
  }
}

/** True when a token is a self-client client-credentials token (no refresh token, a stored grant). */
export function isClientCredentialsToken(token: { refreshToken?: string; grantToken?: string }): boolean {
  return !token.refreshToken && parseClientCredentialsGrant(token.grantToken) !== null;
}
