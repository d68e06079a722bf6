/**
 * Our DBStore and each official Node SDK family's own MySQL DBStore share a table, both ways:
 * what the SDK's store writes, ours reads, every field its table has; what ours writes, the SDK's
 * store reads; each updates the other's rows in place. The tables are made with each SDK's README
 * SQL. Families: zcrmsdk 1.x (its table name is fixed, so it gets a database of its own), the v2
 * SDKs (typescript-sdk 2.0 and 2.1, nodejs-sdk 2.0) and today's (typescript-sdk 6.0, 7.0 and 8.0,
 * nodejs-sdk 7.0 and 8.0, the last two ESM).
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DBStore } from '../../src/stores/mysql.js';
import { CLIENT } from '../../src/testing/index.js';
import { MYSQL_URL, serviceAvailable, uniqueName } from '../services.js';
import { mysqlAdmin, mysqlTarget } from './helpers/sql-admin.js';
import { zcrmsdkDdl, zohoV2Ddl } from './helpers/sql-layout-tables.js';

const require = createRequire(import.meta.url);
const available = await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL');
const target = mysqlTarget();

async function admin(sql: string, database?: string): Promise<void> {
  const connection = await mysqlAdmin(database);
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

// ---------------------------------------------------------------------------------------------
// zcrmsdk 1.x: DBStore(host, database, user, password, port) on table `oauthtoken`, always.

interface ZcrmToken {
  clientID: string;
  accessToken: string | null;
  refreshToken: string | null;
  grantToken: string | null;
  expiresIn: string | null;
  userMail?: string;
  id?: number;
}
interface ZcrmStore {
  getToken(user: unknown, token: ZcrmToken): Promise<ZcrmToken | null>;
  saveToken(user: unknown, token: ZcrmToken): Promise<void>;
  getTokens(): Promise<ZcrmToken[] | null>;
}

describe.skipIf(!available)('zcrmsdk 1.x DBStore and our DBStore share its oauthtoken table', () => {
  const base = 'zcrmsdk-1';
  const { DBStore: SdkDBStore } = require(`${base}/models/authenticator/store/db_store.js`) as {
    DBStore: new (host: string, db: string, user: string, password: string, port: string) => ZcrmStore;
  };
  const { OAuthToken, TokenType } = require(`${base}/models/authenticator/oauth_token.js`) as {
    OAuthToken: new (clientId: string, secret: string | null, token: string, type: string, redirect?: string | null) => ZcrmToken;
    TokenType: { REFRESH: string; GRANT: string };
  };
  const { UserSignature } = require(`${base}/routes/user_signature.js`) as { UserSignature: new (email: string) => unknown };
  const database = uniqueName('zt_zcrm');
  let sdk: ZcrmStore;
  let ours: DBStore;

  beforeAll(async () => {
    await admin(`CREATE DATABASE \`${database}\``);
    await admin(zcrmsdkDdl('oauthtoken'), database);
    sdk = new SdkDBStore(target.host, database, target.user, target.password, String(target.port));
    ours = new DBStore({ ...target, database });
  });
  afterAll(async () => {
    await ours?.close();
    await admin(`DROP DATABASE IF EXISTS \`${database}\``);
  });

  it('a token the SDK saved is read by our store, every column of its table', async () => {
    const token = new OAuthToken(CLIENT.clientId, CLIENT.clientSecret, '1000.refresh.zcrm.0123456789', TokenType.REFRESH);
    token.accessToken = '1000.access.zcrm.0123456789';
    token.expiresIn = '1767225600000';
    await sdk.saveToken(new UserSignature('zcrm@zylker.com'), token);
    // Its table has no client_secret, redirect_url or api_domain; the grant token it wrote as the text 'null' is absent.
    const expected = {
      id: '1',
      userName: 'zcrm@zylker.com',
      clientId: CLIENT.clientId,
      refreshToken: '1000.refresh.zcrm.0123456789',
      accessToken: '1000.access.zcrm.0123456789',
      expiryTime: 1767225600000,
    };
    expect(await ours.tableLayout()).toEqual({ name: 'zcrmsdk', absentFields: ['clientSecret', 'redirectUrl', 'apiDomain'] });
    expect(await ours.findToken({ userName: 'zcrm@zylker.com' })).toEqual(expected);
    expect(await ours.findToken({ ...CLIENT, refreshToken: '1000.refresh.zcrm.0123456789' })).toEqual(expected);
    expect(await ours.findTokenById('1')).toEqual(expected);
    expect(await ours.getTokens()).toEqual([expected]);
  });

  it('a token our store saved is read by the SDK (getToken and getTokens)', async () => {
    const saved = await ours.saveToken({
      userName: 'ours@zylker.com',
      ...CLIENT,
      refreshToken: '1000.refresh.ours.0123456789',
      accessToken: '1000.access.ours.0123456789',
      expiryTime: 1767225600123,
    });
    // client_secret has no column: the saved token says so by lacking it.
    expect(saved).toEqual({
      id: '2',
      userName: 'ours@zylker.com',
      clientId: CLIENT.clientId,
      refreshToken: '1000.refresh.ours.0123456789',
      accessToken: '1000.access.ours.0123456789',
      expiryTime: 1767225600123,
    });
    const probe = new OAuthToken(CLIENT.clientId, CLIENT.clientSecret, '1000.refresh.ours.0123456789', TokenType.REFRESH);
    const found = await sdk.getToken(new UserSignature('ours@zylker.com'), probe);
    expect(found?.accessToken).toBe('1000.access.ours.0123456789');
    expect(found?.refreshToken).toBe('1000.refresh.ours.0123456789');
    expect(found?.expiresIn).toBe('1767225600123');
    const all = (await sdk.getTokens()) ?? [];
    expect(all.map((t) => [t.id, t.userMail, t.refreshToken, t.grantToken])).toEqual([
      [1, 'zcrm@zylker.com', '1000.refresh.zcrm.0123456789', null],
      [2, 'ours@zylker.com', '1000.refresh.ours.0123456789', null],
    ]);
  });

  it('each updates the rows of the other; the SDK re-inserts (a new auto-increment id past ours), ours updates in place', async () => {
    await ours.saveToken({
      userName: 'zcrm@zylker.com',
      ...CLIENT,
      refreshToken: '1000.refresh.zcrm.0123456789',
      accessToken: '1000.access.zcrm.by-ours',
      expiryTime: 1767229200000,
    });
    const probe = new OAuthToken(CLIENT.clientId, null, '1000.refresh.zcrm.0123456789', TokenType.REFRESH);
    expect((await sdk.getToken(new UserSignature('zcrm@zylker.com'), probe))?.accessToken).toBe('1000.access.zcrm.by-ours');

    const token = new OAuthToken(CLIENT.clientId, CLIENT.clientSecret, '1000.refresh.ours.0123456789', TokenType.REFRESH);
    token.accessToken = '1000.access.ours.by-sdk';
    token.expiresIn = '1767229200999';
    await sdk.saveToken(new UserSignature('ours@zylker.com'), token);
    expect(await ours.findToken({ userName: 'ours@zylker.com' })).toMatchObject({
      id: '3',
      accessToken: '1000.access.ours.by-sdk',
      expiryTime: 1767229200999,
    });
    expect((await ours.saveToken({ userName: 'new@zylker.com', ...CLIENT, refreshToken: '1000.refresh.new' })).id).toBe('4');
    expect((await ours.getTokens()).map((t) => t.userName)).toEqual(['zcrm@zylker.com', 'ours@zylker.com', 'new@zylker.com']);
  });
});

// ---------------------------------------------------------------------------------------------
// The v2 SDKs: DBStore(host, database, table, user, password, port); getToken(user, token),
// saveToken(user, token) (delete, then insert with the token's id), getTokenById(id, token).

interface V2Token {
  getId(): string | null;
  setId(v: string): void;
  getAccessToken(): string | null;
  setAccessToken(v: string): void;
  getRefreshToken(): string | null;
  getExpiresIn(): string | null;
  setExpiresIn(v: string): void;
  getClientSecret(): string | null;
  getRedirectURL(): string | null;
  getUserMail(): string | null;
}
interface V2Builder {
  clientId(v: string): V2Builder;
  clientSecret(v: string): V2Builder;
  refreshToken(v: string): V2Builder;
  redirectURL(v: string): V2Builder;
  build(): V2Token;
}
interface V2Store {
  getToken(user: unknown, token: V2Token): Promise<V2Token | undefined>;
  saveToken(user: unknown, token: V2Token): Promise<void>;
  getTokenById(id: string, token: V2Token): Promise<V2Token>;
  getTokens(): Promise<V2Token[] | undefined>;
}

/** Each v2 package, and the id its OAuthToken.generateId makes (it needs a full Initializer, so it is written out). */
const V2_FAMILIES = [
  {
    name: 'typescript-sdk 2.0',
    base: 'zoho-ts-2',
    idOf: (mail: string, refresh: string) => `typescript_${mail}_PRODUCTION_${refresh.slice(-32)}`,
  },
  {
    name: 'typescript-sdk 2.1',
    base: 'zoho-ts-2-1/dist',
    idOf: (mail: string, refresh: string) => `typescript_${mail.split('@')[0]}_PRODUCTION_${refresh.slice(-4)}`,
  },
  {
    name: 'nodejs-sdk 2.0',
    base: 'zoho-node-2',
    idOf: (mail: string, refresh: string) => `nodejs_${mail.split('@')[0]}_PRODUCTION_${refresh.slice(-4)}`,
  },
];

for (const family of V2_FAMILIES) {
  describe.skipIf(!available)(`${family.name} DBStore and our DBStore share a v2 table`, () => {
    const { DBStore: SdkDBStore } = require(`${family.base}/models/authenticator/store/db_store.js`) as {
      DBStore: new (host: string, db: string, table: string, user: string, password: string, port: number) => V2Store;
    };
    const { OAuthBuilder } = require(`${family.base}/models/authenticator/oauth_builder.js`) as { OAuthBuilder: new () => V2Builder };
    const { UserSignature } = require(`${family.base}/routes/user_signature.js`) as { UserSignature: new (mail: string) => unknown };
    const table = uniqueName('zt_v2sdk');
    let sdk: V2Store;
    let ours: DBStore;
    const sdkRefresh = '1000.refresh.v2sdk.0123456789abcdef0123456789abcdef';
    const sdkId = family.idOf('v2sdk@zylker.com', sdkRefresh);
    const builder = (refresh: string) =>
      new OAuthBuilder().clientId(CLIENT.clientId).clientSecret(CLIENT.clientSecret).refreshToken(refresh);

    beforeAll(async () => {
      await admin(zohoV2Ddl(table));
      sdk = new SdkDBStore(target.host, target.database, table, target.user, target.password, target.port);
      ours = new DBStore({ ...target, table });
    });
    afterAll(async () => {
      await ours?.close();
      await admin(`DROP TABLE IF EXISTS \`${table}\``);
    });

    it('a token the SDK saved is read by our store, every column of its table', async () => {
      const token = builder(sdkRefresh).redirectURL('https://v2.example.com/callback').build();
      token.setId(sdkId);
      token.setAccessToken('1000.access.v2sdk.0123456789');
      token.setExpiresIn('1767225600000');
      await sdk.saveToken(new UserSignature('v2sdk@zylker.com'), token);
      const expected = {
        id: sdkId,
        userName: 'v2sdk@zylker.com',
        ...CLIENT,
        refreshToken: sdkRefresh,
        accessToken: '1000.access.v2sdk.0123456789',
        expiryTime: 1767225600000,
        redirectUrl: 'https://v2.example.com/callback',
      };
      expect(await ours.tableLayout()).toEqual({ name: 'zoho-v2', absentFields: ['apiDomain'] });
      expect(await ours.findToken({ userName: 'v2sdk@zylker.com' })).toEqual(expected);
      expect(await ours.findToken({ ...CLIENT, refreshToken: sdkRefresh })).toEqual(expected);
      expect(await ours.findTokenById(sdkId)).toEqual(expected);
    });

    it('a token our store saved is read by the SDK (getToken, getTokenById, getTokens)', async () => {
      const saved = await ours.saveToken({
        userName: 'ours@zylker.com',
        ...CLIENT,
        refreshToken: '1000.refresh.ours.0123456789',
        accessToken: '1000.access.ours.0123456789',
        expiryTime: 1767225600123,
        redirectUrl: 'https://ours.example.com/callback',
        apiDomain: 'https://www.zohoapis.eu',
      });
      // A v2 table has no api_domain: the saved token lacks it rather than pretending it was kept.
      expect(saved.apiDomain).toBeUndefined();
      expect(saved.id).toBe('1');
      const found = await sdk.getToken(new UserSignature('ours@zylker.com'), builder('1000.refresh.ours.0123456789').build());
      expect(found?.getId()).toBe('1');
      expect(found?.getAccessToken()).toBe('1000.access.ours.0123456789');
      expect(found?.getExpiresIn()).toBe('1767225600123');
      expect(found?.getUserMail()).toBe('ours@zylker.com');
      const byId = await sdk.getTokenById('1', builder('1000.refresh.placeholder').build());
      expect(byId.getRefreshToken()).toBe('1000.refresh.ours.0123456789');
      expect(byId.getClientSecret()).toBe(CLIENT.clientSecret);
      expect(byId.getRedirectURL()).toBe('https://ours.example.com/callback');
      expect(((await sdk.getTokens()) ?? []).map((t) => t.getId()).sort()).toEqual(['1', sdkId].sort());
    });

    it('each updates the rows of the other, keeping the ids', async () => {
      await ours.saveToken({
        userName: 'v2sdk@zylker.com',
        ...CLIENT,
        refreshToken: sdkRefresh,
        accessToken: '1000.access.v2sdk.by-ours',
        expiryTime: 1767229200000,
      });
      const seen = await sdk.getToken(new UserSignature('v2sdk@zylker.com'), builder(sdkRefresh).build());
      expect(seen?.getId()).toBe(sdkId);
      expect(seen?.getAccessToken()).toBe('1000.access.v2sdk.by-ours');

      const token = builder('1000.refresh.ours.0123456789').build();
      token.setId('1');
      token.setAccessToken('1000.access.ours.by-sdk');
      token.setExpiresIn('1767229200999');
      await sdk.saveToken(new UserSignature('ours@zylker.com'), token);
      expect(await ours.findToken({ userName: 'ours@zylker.com' })).toMatchObject({
        id: '1',
        accessToken: '1000.access.ours.by-sdk',
        expiryTime: 1767229200999,
      });
      expect((await ours.getTokens()).map((t) => t.id)).toEqual(['1', sdkId]);
      expect((await ours.saveToken({ userName: 'next@zylker.com', accessToken: '1000.access.next' })).id).toBe('2');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Today's SDKs (6.0 and later): DBBuilder, findToken(token), findTokenById(id), saveToken(token).

interface V6Token {
  getId(): string | null;
  getAccessToken(): string | null;
  getRefreshToken(): string | null;
  getExpiresIn(): string | null;
  getAPIDomain(): string | null;
  getClientSecret(): string | null;
  getRedirectURL(): string | null;
  getUserSignature(): { getName(): string } | null;
  setAccessToken(v: string): void;
  setExpiresIn(v: string): void;
  setAPIDomain(v: string): void;
  setUserSignature(v: unknown): void;
}
interface V6OAuthBuilder {
  clientId(v: string): V6OAuthBuilder;
  clientSecret(v: string): V6OAuthBuilder;
  refreshToken(v: string): V6OAuthBuilder;
  redirectURL(v: string): V6OAuthBuilder;
  id(v: string): V6OAuthBuilder;
  build(): V6Token;
}
interface V6DBBuilder {
  host(v: string): V6DBBuilder;
  databaseName(v: string): V6DBBuilder;
  tableName(v: string): V6DBBuilder;
  userName(v: string): V6DBBuilder;
  password(v: string): V6DBBuilder;
  portNumber(v: number): V6DBBuilder;
  build(): V6Store;
}
interface V6Store {
  findToken(token: V6Token): Promise<V6Token | null>;
  findTokenById(id: string): Promise<V6Token>;
  saveToken(token: V6Token): Promise<unknown>;
  getTokens(): Promise<V6Token[] | null>;
}
interface V6Modules {
  DBBuilder: new () => V6DBBuilder;
  OAuthBuilder: new () => V6OAuthBuilder;
  UserSignature: new (name: string) => unknown;
}

const V6_FAMILIES: { name: string; load: () => Promise<V6Modules> }[] = [
  ...[
    ['typescript-sdk 6.0', 'zoho-ts-6/dist'],
    ['typescript-sdk 7.0', 'zoho-ts-7/dist'],
    ['typescript-sdk 8.0', '@zohocrm/typescript-sdk-8.0/dist'],
  ].map(([name, base]) => ({
    name: name as string,
    load: async (): Promise<V6Modules> => ({
      DBBuilder: require(`${base}/models/authenticator/store/db_builder.js`).DBBuilder,
      OAuthBuilder: require(`${base}/models/authenticator/oauth_builder.js`).OAuthBuilder,
      UserSignature: require(`${base}/routes/user_signature.js`).UserSignature,
    }),
  })),
  ...[
    ['nodejs-sdk 7.0 (ESM)', 'zoho-node-7/lib'],
    ['nodejs-sdk 8.0 (ESM)', 'zoho-node-8/lib'],
  ].map(([name, base]) => ({
    name: name as string,
    load: async (): Promise<V6Modules> => ({
      DBBuilder: (await import(`${base}/models/authenticator/store/db_builder.js`)).DBBuilder,
      OAuthBuilder: (await import(`${base}/models/authenticator/oauth_builder.js`)).OAuthBuilder,
      UserSignature: (await import(`${base}/routes/user_signature.js`)).UserSignature,
    }),
  })),
];

for (const family of V6_FAMILIES) {
  describe.skipIf(!available)(`${family.name} DBStore and our DBStore share a table`, () => {
    const table = uniqueName('zt_v6sdk');
    let m: V6Modules;
    let sdk: V6Store;
    let ours: DBStore;
    const builder = (refresh: string) =>
      new m.OAuthBuilder().clientId(CLIENT.clientId).clientSecret(CLIENT.clientSecret).refreshToken(refresh);

    beforeAll(async () => {
      m = await family.load();
      // The SDK does not create its table: its users run the README's CREATE TABLE (server-default collation).
      await admin(
        `CREATE TABLE \`${table}\` (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id))`,
      );
      sdk = new m.DBBuilder()
        .host(target.host)
        .databaseName(target.database)
        .tableName(table)
        .userName(target.user)
        .password(target.password)
        .portNumber(target.port)
        .build();
      ours = new DBStore({ ...target, table });
    });
    afterAll(async () => {
      await ours?.close();
      await admin(`DROP TABLE IF EXISTS \`${table}\``);
    });

    it('a token the SDK saved is read by our store, every field', async () => {
      const token = builder('1000.refresh.v6sdk.0123456789').redirectURL('https://v6.example.com/callback').build();
      token.setAccessToken('1000.access.v6sdk.0123456789');
      token.setExpiresIn('1767225600000');
      token.setAPIDomain('https://www.zohoapis.eu');
      token.setUserSignature(new m.UserSignature('v6sdk@zylker.com'));
      await sdk.saveToken(token);
      const expected = {
        id: '1',
        userName: 'v6sdk@zylker.com',
        ...CLIENT,
        refreshToken: '1000.refresh.v6sdk.0123456789',
        accessToken: '1000.access.v6sdk.0123456789',
        expiryTime: 1767225600000,
        redirectUrl: 'https://v6.example.com/callback',
        apiDomain: 'https://www.zohoapis.eu',
      };
      expect(await ours.tableLayout()).toEqual({ name: 'zoho-v6', absentFields: [] });
      expect(await ours.findToken({ userName: 'v6sdk@zylker.com' })).toEqual(expected);
      expect(await ours.findToken({ ...CLIENT, refreshToken: '1000.refresh.v6sdk.0123456789' })).toEqual(expected);
      expect(await ours.getTokens()).toEqual([expected]);
    });

    it('a token our store saved is read by the SDK, every field', async () => {
      const saved = await ours.saveToken({
        userName: 'ours@zylker.com',
        ...CLIENT,
        refreshToken: '1000.refresh.ours.0123456789',
        accessToken: '1000.access.ours.0123456789',
        expiryTime: 1767225600123,
        redirectUrl: 'https://ours.example.com/callback',
        apiDomain: 'https://www.zohoapis.com',
      });
      expect(saved.id).toBe('2');
      const found = await sdk.findToken(builder('1000.refresh.ours.0123456789').build());
      expect(found?.getId()).toBe('2');
      expect(found?.getAccessToken()).toBe('1000.access.ours.0123456789');
      expect(found?.getExpiresIn()).toBe('1767225600123');
      expect(found?.getAPIDomain()).toBe('https://www.zohoapis.com');
      expect(found?.getUserSignature()?.getName()).toBe('ours@zylker.com');
      const byId = await sdk.findTokenById('2');
      expect(byId.getRefreshToken()).toBe('1000.refresh.ours.0123456789');
      expect(byId.getClientSecret()).toBe(CLIENT.clientSecret);
      expect(byId.getRedirectURL()).toBe('https://ours.example.com/callback');
      expect((await sdk.getTokens())?.map((t) => t.getId())).toEqual(['1', '2']);
    });

    it("each updates the rows of the other without duplicating them, and the ids follow each other's", async () => {
      await ours.saveToken({
        userName: 'v6sdk@zylker.com',
        ...CLIENT,
        refreshToken: '1000.refresh.v6sdk.0123456789',
        accessToken: '1000.access.by-ours',
      });
      expect((await sdk.findToken(builder('1000.refresh.v6sdk.0123456789').build()))?.getAccessToken()).toBe('1000.access.by-ours');
      const token = builder('1000.refresh.ours.0123456789').build();
      token.setAccessToken('1000.access.by-sdk');
      token.setUserSignature(new m.UserSignature('ours@zylker.com'));
      await sdk.saveToken(token);
      expect(await ours.findToken({ userName: 'ours@zylker.com' })).toMatchObject({ id: '2', accessToken: '1000.access.by-sdk' });
      const third = builder('1000.refresh.third.0123456789').build();
      third.setAccessToken('1000.access.third');
      third.setUserSignature(new m.UserSignature('third@zylker.com'));
      await sdk.saveToken(third);
      expect((await ours.findToken({ userName: 'third@zylker.com' }))?.id).toBe('3');
      expect((await ours.saveToken({ userName: 'fourth@zylker.com', accessToken: '1000.access.fourth' })).id).toBe('4');
      expect((await ours.getTokens()).map((t) => t.id)).toEqual(['1', '2', '3', '4']);
    });
  });
}
