// Tokens the cross-process FileStore tests save from child processes. Kept apart from
// src/testing (which loads vitest) so a child starts fast.
import type { OAuthToken } from '../../../src/token.js';

export const CHILD_CLIENT = { clientId: '1000.CHILDCLIENT0000000000000000000', clientSecret: 'child-secret-0123456789abcdef' };

/** A complete token for `user`. */
export function childToken(user: string, extra: Partial<OAuthToken> = {}): OAuthToken {
  return {
    userName: user,
    ...CHILD_CLIENT,
    refreshToken: `1000.refresh.${user}.aaaabbbbccccdddd`,
    accessToken: `1000.access.${user}.eeeeffff00001111`,
    expiryTime: 1_767_225_600_000,
    redirectUrl: 'https://app.example.com/callback',
    apiDomain: 'https://www.zohoapis.com',
    ...extra,
  };
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
