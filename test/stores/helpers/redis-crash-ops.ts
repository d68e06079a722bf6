// What the crash test's child does for user `user` as its n-th operation (base: this child's
// start number). Every save changes the access token, every 5th the refresh token, and the
// grant token comes and goes, so the index is rewritten all the time; every 10th is a delete.
import type { OAuthToken } from '../../../src/token.js';

export type CrashOperation = { kind: 'save'; token: OAuthToken } | { kind: 'delete' };

export const crashUserName = (user: number) => `crash-user-${user}`;

export function crashOperation(user: number, base: number, n: number): CrashOperation {
  if (n % 10 === 9) return { kind: 'delete' };
  const seq = base + n;
  return {
    kind: 'save',
    token: {
      userName: crashUserName(user),
      clientId: '1000.CRASHCLIENT',
      clientSecret: 'crash-secret-0123456789',
      refreshToken: `1000.refresh.${user}.${Math.floor(seq / 5)}`,
      accessToken: `1000.access.${user}.${seq}`,
      ...(seq % 3 === 0 ? { grantToken: `1000.grant.${user}.${seq}` } : {}),
      expiryTime: seq,
    },
  };
}
