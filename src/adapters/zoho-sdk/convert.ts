/**
 * The one place where an SDK token (any family, through its token shape) and our plain
 * OAuthToken (src/token.ts) meet. Field for field: the SDK's user (signature name, or user mail)
 * is our `userName`, its `expiresIn` (epoch ms as a string of digits) our numeric `expiryTime`.
 * Nulls and empty strings mean "absent" on both sides.
 */
import { TokenStoreError } from '../../errors.js';
import {
  MAX_LAYOUT_ID_LENGTH,
  normalizeToken,
  type OAuthToken,
  parseExpiry,
  SECRET_FIELDS,
  TOKEN_FIELDS,
  type TokenField,
} from '../../token.js';
import type { SdkToken, TokenShape } from './token-shapes.js';

function isAbsent(value: unknown): value is null | undefined | '' {
  return value === null || value === undefined || value === '';
}

/** The SDK's expiresIn (epoch ms as digits) as our expiryTime; the error names both. */
function parseSdkExpiry(expiresIn: unknown): number {
  try {
    return parseExpiry(expiresIn);
  } catch (error) {
    if (!(error instanceof TokenStoreError)) throw error;
    throw new TokenStoreError(error.reason, `${error.message} (the SDK token's expiresIn)`, { field: 'expiryTime' });
  }
}

export interface ReadOptions {
  /** The user the SDK names separately (v2 and zcrmsdk pass a UserSignature): wins over the token's own. */
  userName?: unknown;
}

/**
 * Our plain token from an SDK token, validated by token.ts (fields named, values never shown).
 * Its id is checked as every store checks ids on entry (validateId, up to the widest id any table
 * layout holds: a Python uuid, a v2 SDK id); the wrapped store then applies its own table's width.
 */
export function fromSdkToken(shape: TokenShape, token: SdkToken, options: ReadOptions = {}): OAuthToken {
  const plain: Record<string, unknown> = {};
  for (const field of TOKEN_FIELDS) {
    const access = shape.fields[field];
    const value = field === 'userName' && !isAbsent(options.userName) ? options.userName : access?.get(token);
    if (isAbsent(value)) continue;
    if (field === 'expiryTime') plain.expiryTime = parseSdkExpiry(value);
    else plain[field] = value;
  }
  if (plain.userName !== undefined && typeof plain.userName !== 'string') {
    throw new TokenStoreError('INVALID_TOKEN', `Invalid token: userName (the SDK's user) must be a string, got ${typeof plain.userName}`, {
      field: 'userName',
    });
  }
  return normalizeToken(plain, { maxIdLength: MAX_LAYOUT_ID_LENGTH });
}

/**
 * Sets the fields of `stored` on the SDK token: those it lacks, and those in `overwrite` (the
 * fields the family's own stores refresh from the row). What else the SDK token holds wins.
 */
export function fillSdkToken(shape: TokenShape, target: SdkToken, stored: OAuthToken, overwrite: readonly TokenField[] = []): SdkToken {
  for (const field of TOKEN_FIELDS) {
    const access = shape.fields[field];
    const value = stored[field];
    if (access === undefined || value === undefined) continue;
    if (overwrite.includes(field) || isAbsent(access.get(target))) access.set(target, String(value));
  }
  return target;
}

/** A new SDK token (of the application's SDK) holding a stored token, built as the family's stores build one. */
export function toSdkToken(shape: TokenShape, stored: OAuthToken): SdkToken {
  const seed: Partial<Record<TokenField, string>> = {};
  for (const field of TOKEN_FIELDS) if (stored[field] !== undefined) seed[field] = String(stored[field]);
  return fillSdkToken(shape, shape.create(seed), stored, TOKEN_FIELDS);
}

/** The secrets an SDK token holds, for scrubbing error texts; safe on anything, even a non-token. */
export function secretsOfSdkToken(shape: TokenShape, token: unknown): string[] {
  const out: string[] = [];
  if (typeof token !== 'object' || token === null) return out;
  for (const field of SECRET_FIELDS) {
    try {
      const secret = shape.fields[field]?.get(token);
      if (typeof secret === 'string' && secret !== '') out.push(secret);
    } catch {
      // A broken getter has no secret to give.
    }
  }
  return out;
}
