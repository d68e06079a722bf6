// Interop with the official @zohocrm/typescript-sdk-8.0 FileStore, called directly: its
// FileStore(path) and OAuthToken need no Initializer and no network for saveToken, findToken,
// findTokenById and getTokens (only OAuthToken.generateToken talks to Zoho).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/stores/file.js';
import type { OAuthToken, StoredToken } from '../../src/token.js';

const require = createRequire(import.meta.url);
const SDK = '@zohocrm/typescript-sdk-8.0/dist';

interface SdkToken {
  getId(): string | null;
  setId(id: string): void;
  getUserSignature(): { getName(): string } | null;
  setUserSignature(signature: unknown): void;
  getClientId(): string | null;
  setClientId(v: string): void;
  getClientSecret(): string | null;
  setClientSecret(v: string): void;
  getRefreshToken(): string | null;
  setRefreshToken(v: string): void;
  getAccessToken(): string | null;
  setAccessToken(v: string): void;
  getGrantToken(): string | null;
  setGrantToken(v: string): void;
  getExpiresIn(): string | null;
  setExpiresIn(v: string): void;
  getRedirectURL(): string | null;
  setRedirectURL(v: string): void;
  getAPIDomain(): string | null;
  setAPIDomain(v: string): void;
}
interface SdkFileStore {
  saveToken(token: SdkToken): Promise<void>;
  findToken(token: SdkToken): Promise<SdkToken | null>;
  findTokenById(id: string): Promise<SdkToken>;
  getTokens(): Promise<SdkToken[]>;
  deleteToken(id: string): Promise<void>;
}

let sdk: {
  FileStore: new (path: string) => SdkFileStore;
  OAuthToken: new () => SdkToken;
  UserSignature: new (name: string) => unknown;
} | null = null;
try {
  sdk = {
    FileStore: require(`${SDK}/models/authenticator/store/file_store.js`).FileStore,
    OAuthToken: require(`${SDK}/models/authenticator/oauth_token.js`).OAuthToken,
    UserSignature: require(`${SDK}/routes/user_signature.js`).UserSignature,
  };
} catch {
  sdk = null;
}

/** Our token as the SDK's OAuthToken, set through its own setters. */
function toSdk(token: OAuthToken): SdkToken {
  const t = new sdk!.OAuthToken();
  if (token.id) t.setId(token.id);
  if (token.userName) t.setUserSignature(new sdk!.UserSignature(token.userName));
  if (token.clientId) t.setClientId(token.clientId);
  if (token.clientSecret) t.setClientSecret(token.clientSecret);
  if (token.refreshToken) t.setRefreshToken(token.refreshToken);
  if (token.accessToken) t.setAccessToken(token.accessToken);
  if (token.grantToken) t.setGrantToken(token.grantToken);
  if (token.expiryTime !== undefined) t.setExpiresIn(String(token.expiryTime));
  if (token.redirectUrl) t.setRedirectURL(token.redirectUrl);
  if (token.apiDomain) t.setAPIDomain(token.apiDomain);
  return t;
}

/** The SDK's OAuthToken read through its getters; it holds expiry as a string of ms, empty cells as null or "". */
function fromSdk(t: SdkToken | null): Record<string, string> | null {
  if (!t) return null;
  const out: Record<string, string | null | undefined> = {
    id: t.getId(),
    userName: t.getUserSignature()?.getName(),
    clientId: t.getClientId(),
    clientSecret: t.getClientSecret(),
    refreshToken: t.getRefreshToken(),
    accessToken: t.getAccessToken(),
    grantToken: t.getGrantToken(),
    expiryTime: t.getExpiresIn(),
    redirectUrl: t.getRedirectURL(),
    apiDomain: t.getAPIDomain(),
  };
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}

const asSdkSees = (token: StoredToken) => Object.fromEntries(Object.entries(token).map(([k, v]) => [k, String(v)]));

const CLIENT = { clientId: '1000.SDKINTEROPCLIENT000000000000000', clientSecret: 'sdk-interop-secret-0123456789abcdef' };
const TOKENS: OAuthToken[] = [
  {
    userName: 'carol@zylker.com:60054321',
    ...CLIENT,
    refreshToken: '1000.refresh.carol.0123456789abcdef',
    accessToken: '1000.access.carol.fedcba9876543210',
    expiryTime: 1767225600003,
    redirectUrl: 'https://app.example.com/callback',
    apiDomain: 'https://www.zohoapis.com',
  },
  { ...CLIENT, refreshToken: '1000.refresh.nameless.00001111', apiDomain: 'https://www.zohoapis.eu' },
  { ...CLIENT, grantToken: '1000.grant.fresh.22223333', redirectUrl: 'https://app.example.com/callback' },
];

const dir = mkdtempSync(join(tmpdir(), 'ztoken-file-sdk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `sdk${++n}.txt`);

describe.skipIf(!sdk)('FileStore and the official @zohocrm/typescript-sdk-8.0 FileStore', () => {
  it('reads, field for field, a file the official FileStore wrote', async () => {
    const path = freshPath();
    const official = new sdk!.FileStore(path);
    for (const token of TOKENS) await official.saveToken(toSdk(token));
    // An update through the official store: carol's access token refreshed.
    await official.saveToken(toSdk({ ...TOKENS[0]!, accessToken: '1000.access.carol.renewed', expiryTime: 1767229200003 }));
    const ours = new FileStore({ path });
    expect(await ours.getTokens()).toEqual([
      { id: '1', ...TOKENS[0], accessToken: '1000.access.carol.renewed', expiryTime: 1767229200003 },
      { id: '2', ...TOKENS[1] },
      { id: '3', ...TOKENS[2] },
    ]);
    expect((await ours.findToken({ ...CLIENT, grantToken: '1000.grant.fresh.22223333' }))?.id).toBe('3');
    // Our next id follows the official store's.
    expect((await ours.saveToken({ ...CLIENT, refreshToken: '1000.refresh.ours' })).id).toBe('4');
  });

  it('writes a file the official FileStore reads field for field', async () => {
    const path = freshPath();
    const ours = new FileStore({ path });
    const saved: StoredToken[] = [];
    for (const token of TOKENS) saved.push(await ours.saveToken(token));
    const official = new sdk!.FileStore(path);
    expect((await official.getTokens()).map(fromSdk)).toEqual(saved.map(asSdkSees));
    expect(fromSdk(await official.findTokenById('2'))).toEqual(asSdkSees(saved[1]!));
    const partial = new sdk!.OAuthToken();
    partial.setUserSignature(new sdk!.UserSignature('carol@zylker.com:60054321'));
    expect(fromSdk(await official.findToken(partial))).toEqual(asSdkSees(saved[0]!));
    const byRefresh = toSdk({ ...CLIENT, refreshToken: '1000.refresh.nameless.00001111' });
    expect(fromSdk(await official.findToken(byRefresh))).toEqual(asSdkSees(saved[1]!));
  });

  it('both stores take turns on one file: each sees the other’s rows, ids and updates', async () => {
    const path = freshPath();
    const ours = new FileStore({ path });
    const official = new sdk!.FileStore(path); // writes the header first, as it does
    expect(readFileSync(path, 'utf8')).toBe(
      'id,user_mail,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain',
    );
    await official.saveToken(toSdk(TOKENS[0]!));
    const second = await ours.saveToken(TOKENS[1]!);
    expect(second.id).toBe('2');
    await official.saveToken(toSdk(TOKENS[2]!));
    expect((await ours.findToken({ ...CLIENT, grantToken: TOKENS[2]!.grantToken }))?.id).toBe('3');
    await ours.saveToken({ ...TOKENS[0]!, accessToken: '1000.access.carol.by-ours' });
    const partial = new sdk!.OAuthToken();
    partial.setUserSignature(new sdk!.UserSignature(TOKENS[0]!.userName!));
    expect((await official.findToken(partial))?.getAccessToken()).toBe('1000.access.carol.by-ours');
    await official.deleteToken('2');
    expect((await ours.getTokens()).map((t) => t.id)).toEqual(['1', '3']);
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
  });
});
