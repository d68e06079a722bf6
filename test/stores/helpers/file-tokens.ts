// Tokens the cross-process FileStore tests save from child processes (src/testing/sample.ts
// loads no vitest, so a child starts fast).
import { sampleToken } from '../../../src/testing/sample.js';
import type { OAuthToken } from '../../../src/token.js';

export const CHILD_CLIENT = { clientId: '1000.CHILDCLIENT0000000000000000000', clientSecret: 'child-secret-0123456789abcdef' };

/** A complete token for `user`. */
export function childToken(user: string, extra: Partial<OAuthToken> = {}): OAuthToken {
  return sampleToken(user, { ...CHILD_CLIENT, ...extra });
}

export const UPDATED_USERS = 23;

/** Save number i of the crash-test writer: every fifth a new user n<i> (never touched again), else an update of u<i mod 23>. */
export function crashSave(i: number): OAuthToken {
  const user = i % 5 === 0 ? `n${i}` : `u${i % UPDATED_USERS}`;
  return childToken(user, { accessToken: `1000.access.${i}`, expiryTime: 1_767_225_600_000 + i });
}

/** The save number an access token written by crashSave carries. */
export function saveNumberOf(accessToken: string | undefined): number {
  const match = /^1000\.access\.(\d+)$/.exec(accessToken ?? '');
  if (!match) throw new Error(`not a crash-test access token: ${accessToken}`);
  return Number(match[1]);
}
