/**
 * Sample tokens for tests, with recognisable secret values. Kept apart from the conformance kit
 * (which loads vitest) so that child processes in cross-process tests start fast.
 */
import type { OAuthToken } from '../token.js';

export const CLIENT = { clientId: '1000.CONFORMANCECLIENT00000000000000', clientSecret: 'conformance-secret-0123456789abcdef' };

/** A complete token for `user`, with recognisable secret values. */
export function sampleToken(user: string, extra: Partial<OAuthToken> = {}): OAuthToken {
  return {
    userName: user,
    ...CLIENT,
    refreshToken: `1000.refresh.${user}.aaaabbbbccccdddd`,
    accessToken: `1000.access.${user}.eeeeffff00001111`,
    expiryTime: 1_767_225_600_000,
    redirectUrl: 'https://app.example.com/callback',
    apiDomain: 'https://www.zohoapis.com',
    ...extra,
  };
}
