/**
 * Tokens marked as needing re-authorization: a TokenManager (any process of the fleet) saw Zoho
 * reject the token's refresh token and recorded it in the store (ReauthMarkStore). Only marks that
 * still count are findings (isStaleReauthMark: a re-authorization since voids them). Read only:
 * doctor clears nothing.
 */
import { liveReauthMarks, MALFORMED_REAUTH_MARK_WARNING, type ReauthMark } from '../reauth-marks.js';
import { supportsReauthMarks, type TokenStore } from '../store.js';
import type { StoredToken } from '../token.js';
import type { Finding } from './findings.js';

/** A user name that is safe to print as a shell word (Zoho's are `email` or `email:zgid`). */
const SHELL_WORD = /^[A-Za-z0-9@._:+-]{1,200}$/;

export async function checkReauthMarks(store: TokenStore, tokens: readonly StoredToken[], login: string): Promise<Finding[]> {
  const check = 'reauthorization';
  if (!supportsReauthMarks(store)) return [];
  let marks: ReauthMark[];
  // The store skips a malformed mark with a process warning: each one becomes a warning here.
  const skipped: string[] = [];
  const listener = (warning: Error & { code?: string }) => {
    if (warning.code === MALFORMED_REAUTH_MARK_WARNING) skipped.push(warning.message);
  };
  process.on('warning', listener);
  try {
    marks = await store.getReauthMarks();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are delivered on a later tick
  } catch (error) {
    return [{ check, level: 'warning', message: `could not read the re-authorization marks: ${(error as Error).message}` }];
  } finally {
    process.off('warning', listener);
  }
  const byId = new Map(tokens.map((token) => [token.id, token]));
  const unreadable = skipped.map(
    (message): Finding => ({ check, level: 'warning', message: `${message} (not written by this tool, or damaged: it is ignored)` }),
  );
  const live = liveReauthMarks(marks, tokens).map((mark) => {
    const user = byId.get(mark.tokenId)?.userName;
    const who = user ? ` (${user})` : '';
    return {
      check,
      level: 'error',
      tokenId: mark.tokenId,
      message:
        `token ${mark.tokenId}${who} needs re-authorization: Zoho refused its refresh token (${mark.reason}) on ${new Date(mark.markedAt).toISOString()}, ` +
        'so no new access token can be had with it (the user or an admin revoked the app, or more than 20 refresh tokens were issued); the user must sign in again',
      fix: user && SHELL_WORD.test(user) ? `${login} --user ${user}` : login,
    } satisfies Finding;
  });
  return [...live, ...unreadable];
}
