/**
 * The token the SQL crash writer saves for `user` on its i-th save in run `run`, and how the test
 * reads (run, i) back from a stored access token. Kept apart from src/testing (which loads vitest)
 * so that the writer child starts fast.
 */
import type { OAuthToken } from '../../../src/token.js';

export function crashToken(user: string, run: number, i: number): OAuthToken {
  return {
    userName: user,
    clientId: '1000.CRASHCLIENT',
    clientSecret: 'crash-secret-0123456789abcdef',
    refreshToken: `1000.refresh.${user}.aaaabbbbccccdddd`,
    accessToken: `1000.access.r${run}.i${i}`,
    expiryTime: 1_767_225_600_000 + i,
    redirectUrl: 'https://app.example.com/callback',
    apiDomain: 'https://www.zohoapis.com',
  };
}

/** [run, i] of an access token written by crashToken. */
export function crashStamp(accessToken: string): [number, number] {
  const match = /^1000\.access\.r(\d+)\.i(\d+)$/.exec(accessToken);
  if (!match) throw new Error(`not a crash writer's access token: ${accessToken}`);
  return [Number(match[1]), Number(match[2])];
}
