/**
 * Interop with the official @zohocrm/typescript-sdk-8.0 DBStore (CommonJS, the old `mysql`
 * driver): rows it writes are read by our DBStore, and rows our DBStore writes are read by it,
 * in a table made with Zoho's own SQL.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DBStore } from '../../src/stores/mysql.js';
import { CLIENT } from '../../src/testing/index.js';
import { MYSQL_URL, serviceAvailable, uniqueName } from '../services.js';
import { mysqlAdmin, mysqlTarget } from './helpers/sql-admin.js';

const require = createRequire(import.meta.url);
const SDK = '@zohocrm/typescript-sdk-8.0/dist';

interface SdkToken {
  getId(): string | null;
  getAccessToken(): string | null;
  getRefreshToken(): string | null;
  getExpiresIn(): string | null;
  getAPIDomain(): string | null;
  getClientId(): string | null;
  getUserSignature(): { getName(): string } | null;
  setAccessToken(v: string): void;
  setExpiresIn(v: string): void;
  setAPIDomain(v: string): void;
  setUserSignature(v: unknown): void;
}
interface SdkOAuthBuilder {
  clientId(v: string): SdkOAuthBuilder;
  clientSecret(v: string): SdkOAuthBuilder;
  refreshToken(v: string): SdkOAuthBuilder;
  id(v: string): SdkOAuthBuilder;
  build(): SdkToken;
}
interface SdkDBBuilder {
  host(v: string): SdkDBBuilder;
  databaseName(v: string): SdkDBBuilder;
  tableName(v: string): SdkDBBuilder;
  userName(v: string): SdkDBBuilder;
  password(v: string): SdkDBBuilder;
  portNumber(v: number): SdkDBBuilder;
  build(): SdkStore;
}
interface SdkStore {
  findToken(token: SdkToken): Promise<SdkToken | null>;
  findTokenById(id: string): Promise<SdkToken>;
  saveToken(token: SdkToken): Promise<unknown>;
  getTokens(): Promise<SdkToken[] | null>;
}

const available = await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL');
const target = mysqlTarget();

describe.skipIf(!available)('DBStore and the official Zoho SDK DBStore share a table', () => {
  const { DBBuilder } = require(`${SDK}/models/authenticator/store/db_builder.js`) as { DBBuilder: new () => SdkDBBuilder };
  const { OAuthBuilder } = require(`${SDK}/models/authenticator/oauth_builder.js`) as { OAuthBuilder: new () => SdkOAuthBuilder };
  const { UserSignature } = require(`${SDK}/routes/user_signature.js`) as { UserSignature: new (name: string) => unknown };
  const table = uniqueName('zt_sdk');
  let sdk: SdkStore;
  let ours: DBStore;

  const sdkToken = (fields: { refreshToken?: string; id?: string }) => {
    let b = new OAuthBuilder().clientId(CLIENT.clientId).clientSecret(CLIENT.clientSecret);
    if (fields.refreshToken) b = b.refreshToken(fields.refreshToken);
    if (fields.id) b = b.id(fields.id);
    return b.build();
  };

  beforeAll(async () => {
    const admin = await mysqlAdmin();
    // The SDK does not create its table: its users run Zoho's CREATE TABLE (server-default collation).
    await admin.query(
      `CREATE TABLE \`${table}\` (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id))`,
    );
    await admin.end();
    sdk = new DBBuilder()
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
    const admin = await mysqlAdmin();
    await admin.query(`DROP TABLE IF EXISTS \`${table}\``);
    await admin.end();
  });

  it('a token the SDK saved is found by our store, every field', async () => {
    const token = sdkToken({ refreshToken: '1000.refresh.sdk.0123456789' });
    token.setAccessToken('1000.access.sdk.0123456789');
    token.setExpiresIn('1767225600000');
    token.setAPIDomain('https://www.zohoapis.eu');
    token.setUserSignature(new UserSignature('sdk@zylker.com'));
    await sdk.saveToken(token);
    const expected = {
      id: '1',
      userName: 'sdk@zylker.com',
      ...CLIENT,
      refreshToken: '1000.refresh.sdk.0123456789',
      accessToken: '1000.access.sdk.0123456789',
      expiryTime: 1767225600000,
      apiDomain: 'https://www.zohoapis.eu',
    };
    expect(await ours.findToken({ userName: 'sdk@zylker.com' })).toEqual(expected);
    expect(await ours.findToken({ ...CLIENT, refreshToken: '1000.refresh.sdk.0123456789' })).toEqual(expected);
    expect(await ours.getTokens()).toEqual([expected]);
  });

  it('a token our store saved is found by the SDK, by refresh token and by id', async () => {
    const saved = await ours.saveToken({
      userName: 'ours@zylker.com',
      ...CLIENT,
      refreshToken: '1000.refresh.ours.0123456789',
      accessToken: '1000.access.ours.0123456789',
      expiryTime: 1767225600123,
      apiDomain: 'https://www.zohoapis.com',
    });
    expect(saved.id).toBe('2');
    const found = await sdk.findToken(sdkToken({ refreshToken: '1000.refresh.ours.0123456789' }));
    expect(found?.getId()).toBe('2');
    expect(found?.getAccessToken()).toBe('1000.access.ours.0123456789');
    expect(found?.getExpiresIn()).toBe('1767225600123');
    expect(found?.getUserSignature()?.getName()).toBe('ours@zylker.com');
    const byId = await sdk.findTokenById('2');
    expect(byId.getRefreshToken()).toBe('1000.refresh.ours.0123456789');
    expect((await sdk.getTokens())?.map((t) => t.getId())).toEqual(['1', '2']);
  });

  it('each updates the rows of the other without duplicating them', async () => {
    await ours.saveToken({
      userName: 'sdk@zylker.com',
      ...CLIENT,
      refreshToken: '1000.refresh.sdk.0123456789',
      accessToken: '1000.access.sdk.updated',
      expiryTime: 1767229200000,
    });
    const seen = await sdk.findToken(sdkToken({ refreshToken: '1000.refresh.sdk.0123456789' }));
    expect(seen?.getAccessToken()).toBe('1000.access.sdk.updated');
    expect(seen?.getExpiresIn()).toBe('1767229200000');

    const token = sdkToken({ refreshToken: '1000.refresh.ours.0123456789' });
    token.setAccessToken('1000.access.ours.by-sdk');
    token.setExpiresIn('1767229200999');
    token.setUserSignature(new UserSignature('ours@zylker.com'));
    await sdk.saveToken(token);
    expect(await ours.findToken({ userName: 'ours@zylker.com' })).toMatchObject({
      id: '2',
      accessToken: '1000.access.ours.by-sdk',
      expiryTime: 1767229200999,
    });
    expect((await ours.getTokens()).map((t) => [t.id, t.userName])).toEqual([
      ['1', 'sdk@zylker.com'],
      ['2', 'ours@zylker.com'],
    ]);
  });

  it("the SDK's next id follows ours, and ours follows the SDK's", async () => {
    const token = sdkToken({ refreshToken: '1000.refresh.third.0123456789' });
    token.setAccessToken('1000.access.third');
    token.setUserSignature(new UserSignature('third@zylker.com'));
    await sdk.saveToken(token);
    expect((await ours.findToken({ userName: 'third@zylker.com' }))?.id).toBe('3');
    expect((await ours.saveToken({ userName: 'fourth@zylker.com', accessToken: '1000.access.fourth' })).id).toBe('4');
  });

  it('the invisible id-number column our store added hides from the SDK and from SQL, and follows their rows', async () => {
    const admin = await mysqlAdmin();
    try {
      const [hidden] = await admin.query(
        'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA LIKE ?',
        [table, '%INVISIBLE%'],
      );
      expect(hidden).toEqual([{ name: 'ztoken_id_num' }]);
      // A person with SQL: SELECT * and a column-less INSERT see Zoho's ten columns.
      const [star] = await admin.query(`SELECT * FROM \`${table}\` WHERE id = '1'`);
      expect(Object.keys((star as object[])[0] ?? {})).toHaveLength(10);
      await admin.query(
        `INSERT INTO \`${table}\` VALUES ('99', 'sql@zylker.com', NULL, NULL, NULL, '1000.access.sql', NULL, NULL, NULL, NULL)`,
      );
    } finally {
      await admin.end();
    }
    expect((await ours.saveToken({ userName: 'fifth@zylker.com', accessToken: '1000.access.fifth' })).id).toBe('100');
    expect((await sdk.getTokens())?.map((t) => t.getId())).toEqual(['1', '100', '2', '3', '4', '99']);
    expect((await sdk.findTokenById('100')).getAccessToken()).toBe('1000.access.fifth');
  });
});
