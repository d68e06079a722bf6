/**
 * Re-authorization marks: the note that Zoho rejected a token's refresh token, kept in the store
 * (ReauthMarkStore, store.ts) so that every process of a fleet, and `ztoken doctor`, can see it.
 * A mark names the rejected refresh token only by its SHA-256, never the token itself.
 *
 * The one staleness rule (isStaleReauthMark): a mark counts only while the token exists and its
 * current refresh token still hashes to the mark. A re-authorization by any process (a new
 * refresh token) therefore voids every older mark, whoever wrote it and whenever.
 */
import { createHash } from 'node:crypto';
import { TokenStoreError } from './errors.js';
import { compareIds, MAX_LAYOUT_ID_LENGTH, type StoredToken, validateId } from './token.js';

export interface ReauthMark {
  tokenId: string;
  /** SHA-256 (lowercase hex) of the refresh token Zoho rejected. */
  refreshTokenHash: string;
  /** Zoho's error code (invalid_code, invalid_token, ...). */
  reason: string;
  /** When the rejection was seen, epoch ms. */
  markedAt: number;
}

const HASH = /^[0-9a-f]{64}$/;
/** Zoho's error codes are short snake_case words; anything else is not a reason we wrote. */
const REASON = /^[A-Za-z0-9_.-]{1,64}$/;
/** The last time a Date can hold (so a mark's time always prints). */
const MAX_TIME_MS = 8.64e15;
const MARK_FIELDS = new Set(['tokenId', 'refreshTokenHash', 'reason', 'markedAt']);

/** The hash a mark keeps of a refresh token (a token without one hashes the empty string). */
export function hashRefreshToken(refreshToken: string | undefined): string {
  return createHash('sha256')
    .update(refreshToken ?? '', 'utf8')
    .digest('hex');
}

/** The mark for `token`, whose current refresh token Zoho rejected with `reason`. */
export function reauthMarkOf(token: StoredToken, reason: string, markedAt: number): ReauthMark {
  return checkReauthMark({ tokenId: token.id, refreshTokenHash: hashRefreshToken(token.refreshToken), reason, markedAt });
}

/** A mark is stale when its token is gone or holds another refresh token than the one rejected. */
export function isStaleReauthMark(mark: ReauthMark, token: StoredToken | null | undefined): boolean {
  if (!token || token.id !== mark.tokenId) return true;
  return hashRefreshToken(token.refreshToken) !== mark.refreshTokenHash;
}

/** The marks that still count, against the tokens stored now (isStaleReauthMark). */
export function liveReauthMarks(marks: readonly ReauthMark[], tokens: readonly StoredToken[]): ReauthMark[] {
  const byId = new Map(tokens.map((token) => [token.id, token]));
  return marks.filter((mark) => !isStaleReauthMark(mark, byId.get(mark.tokenId)));
}

/** What is wrong with a mark, or null when it is well formed. */
function problemOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const mark = value as Record<string, unknown>;
  const extra = Object.keys(mark).find((key) => !MARK_FIELDS.has(key));
  if (extra !== undefined) return `unknown field ${JSON.stringify(extra.slice(0, 40))}`;
  try {
    validateId(mark.tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH);
  } catch (error) {
    return (error as Error).message;
  }
  if (typeof mark.refreshTokenHash !== 'string' || !HASH.test(mark.refreshTokenHash)) {
    return 'refreshTokenHash is not a SHA-256 in lowercase hex';
  }
  if (typeof mark.reason !== 'string' || !REASON.test(mark.reason)) {
    return 'reason is not 1 to 64 letters, digits or _ . -';
  }
  if (typeof mark.markedAt !== 'number' || !Number.isSafeInteger(mark.markedAt) || mark.markedAt < 0 || mark.markedAt > MAX_TIME_MS) {
    return 'markedAt is not a time in epoch ms';
  }
  return null;
}

/** A copy of a mark problemOf found well formed. */
function copyOf(value: unknown): ReauthMark {
  const { tokenId, refreshTokenHash, reason, markedAt } = value as ReauthMark;
  return { tokenId, refreshTokenHash, reason, markedAt };
}

/** Checks a mark handed to a store and returns a clean copy; a bad one is INVALID_ARGUMENT. */
export function checkReauthMark(value: unknown): ReauthMark {
  const problem = problemOf(value);
  if (problem !== null) throw new TokenStoreError('INVALID_ARGUMENT', `Invalid re-authorization mark: ${problem}`);
  return copyOf(value);
}

/**
 * A mark read back from a store: data, never trusted. A malformed one is skipped with a
 * process warning naming where it was (never its content) and null is returned.
 */
export function readReauthMark(value: unknown, where: string): ReauthMark | null {
  const problem = problemOf(value);
  if (problem === null) return copyOf(value);
  warnMalformedReauthMark(where, problem);
  return null;
}

/** Marks in the order getReauthMarks answers them: by token id (numeric ids numerically). Sorts in place. */
export function inTokenIdOrder(marks: ReauthMark[]): ReauthMark[] {
  return marks.sort((a, b) => compareIds(a.tokenId, b.tokenId));
}

/** The code of the process warning a store gives for a mark it cannot read. */
export const MALFORMED_REAUTH_MARK_WARNING = 'ZTOKEN_MALFORMED_REAUTH_MARK';

export function warnMalformedReauthMark(where: string, problem: string): void {
  process.emitWarning(`Skipped a malformed re-authorization mark in ${where}: ${problem}`, { code: MALFORMED_REAUTH_MARK_WARNING });
}
