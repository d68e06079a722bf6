/** Token and id shapes of Zoho: tokens `1000.<32 hex>.<32 hex>`, record ids of 19 digits. */
import { createHash, randomBytes } from 'node:crypto';

/** A fresh token shaped like Zoho's: `1000.<32 hex>.<32 hex>` (grant codes look the same). */
export function newZohoToken(): string {
  const hex = randomBytes(32).toString('hex');
  return `1000.${hex.slice(0, 32)}.${hex.slice(32)}`;
}

/**
 * The non-secret handle of a refresh token, used as the key of `counters.refreshesByToken`:
 * `rt_` + the first 16 hex digits of its SHA-256. Anyone who holds the token can compute it
 * (e.g. a child process in a fleet test); nobody can get the token back from it.
 */
export function refreshTokenHandle(refreshToken: string): string {
  return `rt_${createHash('sha256').update(refreshToken).digest('hex').slice(0, 16)}`;
}

let serial = 0;
/** A numeric id shaped like Zoho's (19 digits), unique within the process. */
export function newNumericId(prefix = '4876876'): string {
  serial = (serial + 1) % 1_000_000;
  const random = randomBytes(4).readUInt32BE(0) % 1_000_000;
  return `${prefix}${String(random).padStart(6, '0')}${String(serial).padStart(6, '0')}`.slice(0, 19);
}
