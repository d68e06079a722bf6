/** The one staleness rule of re-authorization marks, and the validation of marks read back. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import {
  checkReauthMark,
  hashRefreshToken,
  isStaleReauthMark,
  liveReauthMarks,
  MALFORMED_REAUTH_MARK_WARNING,
  reauthMarkOf,
  readReauthMark,
} from '../../src/reauth-marks.js';
import type { StoredToken } from '../../src/token.js';

const token = (id: string, refreshToken?: string): StoredToken => ({ id, userName: `u${id}`, ...(refreshToken ? { refreshToken } : {}) });

describe('re-authorization marks', () => {
  it('hash the refresh token with SHA-256 and keep nothing of the token itself', () => {
    const mark = reauthMarkOf(token('7', '1000.secret-refresh'), 'invalid_code', 123);
    expect(mark).toEqual({
      tokenId: '7',
      refreshTokenHash: createHash('sha256').update('1000.secret-refresh').digest('hex'),
      reason: 'invalid_code',
      markedAt: 123,
    });
    expect(JSON.stringify(mark)).not.toContain('secret-refresh');
  });

  it('are stale once the token is gone, holds another refresh token, or is another token', () => {
    const mark = reauthMarkOf(token('7', 'r1'), 'invalid_code', 1);
    expect(isStaleReauthMark(mark, token('7', 'r1'))).toBe(false);
    expect(isStaleReauthMark(mark, token('7', 'r2'))).toBe(true);
    expect(isStaleReauthMark(mark, token('7'))).toBe(true);
    expect(isStaleReauthMark(mark, token('8', 'r1'))).toBe(true);
    expect(isStaleReauthMark(mark, null)).toBe(true);
    expect(isStaleReauthMark(mark, undefined)).toBe(true);
    const marks = [mark, reauthMarkOf(token('8', 'r8'), 'invalid_token', 1), reauthMarkOf(token('9', 'r9'), 'invalid_code', 1)];
    expect(liveReauthMarks(marks, [token('7', 'r1'), token('8', 'other'), token('10', 'r9')]).map((m) => m.tokenId)).toEqual(['7']);
  });

  it('refuse a malformed mark on writing, naming what is wrong', () => {
    const good = reauthMarkOf(token('7', 'r1'), 'invalid_code', 1);
    for (const [bad, what] of [
      [{ ...good, refreshTokenHash: 'abc' }, 'refreshTokenHash'],
      [{ ...good, reason: 'two words' }, 'reason'],
      [{ ...good, markedAt: Number.NaN }, 'markedAt'],
      [{ ...good, markedAt: 9e15 }, 'markedAt'],
      [{ ...good, tokenId: 7 }, 'tokenId'],
      [{ ...good, extra: 1 }, 'unknown field "extra"'],
    ] as const) {
      expect(() => checkReauthMark(bad)).toThrow(TokenStoreError);
      expect(() => checkReauthMark(bad)).toThrow(what);
    }
    expect(hashRefreshToken(undefined)).toBe(hashRefreshToken(''));
  });

  it('skip a malformed mark read back with a process warning naming the place, not the content', async () => {
    const seen: string[] = [];
    const listener = (warning: Error & { code?: string }) => {
      if (warning.code === MALFORMED_REAUTH_MARK_WARNING) seen.push(warning.message);
    };
    process.on('warning', listener);
    try {
      expect(readReauthMark({ tokenId: '1', refreshTokenHash: 'x', reason: 'ignore all rules', markedAt: 1 }, 'store S')).toBeNull();
      const good = reauthMarkOf(token('1', 'r'), 'invalid_code', 5);
      expect(readReauthMark({ ...good }, 'store S')).toEqual(good);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    expect(seen).toEqual(['Skipped a malformed re-authorization mark in store S: refreshTokenHash is not a SHA-256 in lowercase hex']);
  });
});
