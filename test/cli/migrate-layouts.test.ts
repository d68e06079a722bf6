/**
 * `ztoken migrate` between the official SDKs' token layouts: zcrmsdk 1.x's MySQL table (rows
 * written by the real zcrmsdk DBStore) into an encrypted PostgresStore (?encrypt=1, ZTOKEN_KEYS),
 * dry run first; and a Python SDK 8.0 MultiDBStore table (uuid ids, made by hand as SQLAlchemy
 * makes it) into a ts-8 token file, whose 10-digit ids cannot hold a uuid.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import { FileStore } from '../../src/stores/file.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { compareIds, SECRET_FIELDS, type StoredToken } from '../../src/token.js';
import { MYSQL_URL, POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropPostgresTable, mysqlAdmin, mysqlTarget, postgresAdmin, postgresRows, postgresTarget } from '../stores/helpers/sql-admin.js';
import { PYTHON_COLUMNS, pythonDdl, rawSqlite, zcrmsdkDdl } from '../stores/helpers/sql-layout-tables.js';
import { expectNoSecrets, outputs, runCli, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
const temp = tempDir('ztoken-migrate-layouts');
afterAll(() => temp.remove());

const secrets = new Set<string>();
function secret(kind: string, i: number): string {
  const value = `1000.${kind}${i}${randomBytes(12).toString('hex')}.${randomBytes(8).toString('hex')}`;
  secrets.add(value);
  return value;
}
const CLIENT_ID = '1000.MIGRATELAYOUTS0000000000000';

const mysqlUp = await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL');
const postgresUp = await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL');

interface ZcrmToken {
  accessToken: string | null;
  expiresIn: string | null;
}
interface ZcrmStore {
  saveToken(user: unknown, token: ZcrmToken): Promise<void>;
}

describe.skipIf(!mysqlUp || !postgresUp)('zcrmsdk 1.x MySQL table -> encrypted PostgresStore', () => {
  const database = uniqueName('zt_zcrm_mig');
  const table = uniqueName('zt_enc_mig');
  const key = { id: 'k1', key: randomBytes(32) };
  const keyLine = `${key.id}:${key.key.toString('base64')}`;
  secrets.add(key.key.toString('base64'));
  const env = { ZTOKEN_KEYS: keyLine };

  const fromUrl = () => {
    const u = new URL(MYSQL_URL);
    u.pathname = `/${database}`;
    return u.toString();
  };
  const toUrl = `${POSTGRES_URL}?table=${table}&encrypt=1`;

  afterAll(async () => {
    const admin = await mysqlAdmin();
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await admin.end();
    await dropPostgresTable(table);
  });

  /** Three users as zcrmsdk's own DBStore saves them: after a grant exchange, after a refresh-token start, a second grant. */
  async function seedWithZcrmsdk(): Promise<StoredToken[]> {
    const admin = await mysqlAdmin();
    await admin.query(`CREATE DATABASE \`${database}\``);
    await admin.end();
    const inDb = await mysqlAdmin(database);
    await inDb.query(zcrmsdkDdl('oauthtoken'));
    await inDb.end();
    const base = 'zcrmsdk-1';
    const { DBStore } = require(`${base}/models/authenticator/store/db_store.js`) as {
      DBStore: new (host: string, db: string, user: string, password: string, port: string) => ZcrmStore;
    };
    const { OAuthToken, TokenType } = require(`${base}/models/authenticator/oauth_token.js`) as {
      OAuthToken: new (clientId: string, secret: string | null, token: string, type: string, redirect?: string | null) => ZcrmToken;
      TokenType: { REFRESH: string; GRANT: string };
    };
    const { UserSignature } = require(`${base}/routes/user_signature.js`) as { UserSignature: new (email: string) => unknown };
    const t = mysqlTarget();
    const sdk = new DBStore(t.host, database, t.user, t.password, String(t.port));
    const expected: StoredToken[] = [];
    for (let i = 1; i <= 3; i++) {
      const grant = i !== 2;
      const start = grant ? secret('grant', i) : secret('refresh', i);
      const token = new OAuthToken(CLIENT_ID, secret('client', i), start, grant ? TokenType.GRANT : TokenType.REFRESH) as ZcrmToken & {
        refreshToken: string | null;
      };
      token.accessToken = secret('access', i);
      if (grant) token.refreshToken = secret('refresh', i);
      token.expiresIn = String(1_767_225_600_000 + i);
      await sdk.saveToken(new UserSignature(`zcrm${i}@zylker.com`), token);
      expected.push({
        id: String(i),
        userName: `zcrm${i}@zylker.com`,
        clientId: CLIENT_ID,
        refreshToken: token.refreshToken ?? start,
        accessToken: token.accessToken,
        ...(grant ? { grantToken: start } : {}),
        expiryTime: 1_767_225_600_000 + i,
      });
    }
    return expected;
  }

  async function tableExists(): Promise<boolean> {
    const admin = await postgresAdmin();
    try {
      return (await admin.query('SELECT to_regclass($1) AS t', [table])).rows[0]?.t !== null;
    } finally {
      await admin.end();
    }
  }

  test('dry run reports every token new and writes nothing; the real run copies every field, encrypted; a second dry run finds all unchanged', async () => {
    const expected = await seedWithZcrmsdk();
    const from = fromUrl();

    const dry = await runCli(['migrate', '--from', from, '--to', toUrl, '--dry-run'], { env });
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run: migrating 3 tokens from');
    expect(dry.stdout).toMatch(/Would copy 3 tokens: 3 new \(0 with a new id\), 0 updated, 0 already there; .* would hold 3 tokens\./);
    for (let i = 1; i <= 3; i++) {
      expect(dry.stdout).toContain(`  new      token ${i} (zcrm${i}@zylker.com) from source token ${i} (zcrm${i}@zylker.com)`);
    }
    expect(dry.stdout).toContain('Dry run: nothing was written (the target does not exist yet; nothing was created).');
    expect(await tableExists()).toBe(false);

    const real = await runCli(['migrate', '--from', from, '--to', toUrl], { env });
    expect(real.code).toBe(0);
    expect(real.stdout).toContain('✓ Copied 3 tokens: 3 new (0 with a new id), 0 updated, 0 already there');
    expect(real.stdout).toContain('✓ Verified: all 3 source tokens are in the target, which now holds 3 tokens');

    // Decrypted through the store: every field zcrmsdk's table holds, ids kept.
    const reader = new EncryptedStore(new PostgresStore({ ...postgresTarget(), table }), { keys: [key] });
    try {
      expect(await reader.getTokens()).toEqual(expected);
      expect(await reader.findToken({ userName: 'zcrm2@zylker.com' })).toEqual(expected[1]);
    } finally {
      await reader.close();
    }
    // At rest every secret is ciphertext under k1; no plaintext secret is in the table.
    const rows = await postgresRows(table);
    expect(rows.map((r) => r.user_name)).toEqual(['zcrm1@zylker.com', 'zcrm2@zylker.com', 'zcrm3@zylker.com']);
    const rawText = JSON.stringify(rows);
    for (const token of expected) {
      for (const field of SECRET_FIELDS) if (token[field]) expect(rawText).not.toContain(token[field]);
    }
    for (const row of rows) for (const column of ['refresh_token', 'access_token']) expect(row[column]).toMatch(/^zt2:k1:/);

    const again = await runCli(['migrate', '--from', from, '--to', toUrl, '--dry-run'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Would copy 3 tokens: 0 new \(0 with a new id\), 0 updated, 3 already there; .* would hold 3 tokens\./);
    expect(again.stdout).not.toMatch(/^ {2}(new|updated) /m);
    expect(again.stdout).toContain('Dry run: nothing was written.');
  });
});

describe('Python SDK 8.0 MultiDBStore table (SQLite) -> ts-8 token file', () => {
  test('uuid ids do not fit the file: the dry run says so, the real run gives numeric ids, every field arrives', async () => {
    const raw = rawSqlite();
    try {
      for (const statement of pythonDdl('oauthtoken')) await raw.query(statement);
      const rows = [1, 2].map((i) => ({
        id: randomUUID(),
        user_name: `py${i}@zylker.com:7001`,
        client_id: CLIENT_ID,
        client_secret: `client-secret-py-${i}-${randomBytes(8).toString('hex')}`,
        refresh_token: secret('refresh', i),
        access_token: secret('access', i),
        grant_token: i === 1 ? secret('grant', i) : null,
        redirect_url: 'https://app.example.com/callback',
        api_domain: 'https://www.zohoapis.eu',
        expiry_time: String(1_767_225_600_000 + i),
      }));
      for (const row of rows) {
        secrets.add(row.client_secret);
        await raw.query(
          `INSERT INTO oauthtoken (${PYTHON_COLUMNS.join(', ')}) VALUES (${PYTHON_COLUMNS.map(() => '?').join(', ')})`,
          PYTHON_COLUMNS.map((c) => row[c]),
        );
      }
      const from = `sqlite:${raw.path}`;
      const path = join(temp.dir, 'sdk_tokens.txt');
      const to = `file:${path}?layout=ts-8`;

      const dry = await runCli(['migrate', '--from', from, '--to', to, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('Would copy 2 tokens: 2 new (2 with a new id), 0 updated, 0 already there');
      // The source lists its tokens by id (uuids as strings); each gets the target's next number in that order.
      const ordered = [...rows].sort((a, b) => compareIds(a.id, b.id));
      for (const [i, row] of ordered.entries()) {
        expect(dry.stdout).toContain(
          `  new      token ${i + 1} (${row.user_name}) from source token ${row.id} (${row.user_name}) (id ${row.id} does not fit the target)`,
        );
      }
      expect(existsSync(path)).toBe(false);

      const real = await runCli(['migrate', '--from', from, '--to', to]);
      expect(real.code).toBe(0);
      expect(real.stdout).toContain('✓ Copied 2 tokens: 2 new (2 with a new id), 0 updated, 0 already there');
      expect(real.stdout).toContain('✓ Verified: all 2 source tokens are in the target, which now holds 2 tokens');

      // The file is what typescript-sdk 6.0-8.0 write: their header, \n between rows, no quoting.
      const lines = readFileSync(path, 'utf8').split('\n');
      expect(lines[0]).toBe(
        'id,user_mail,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain',
      );
      expect(lines.slice(1)).toEqual(
        ordered.map((r, i) =>
          [
            String(i + 1),
            r.user_name,
            r.client_id,
            r.client_secret,
            r.refresh_token,
            r.access_token,
            r.grant_token ?? '',
            r.expiry_time,
            r.redirect_url,
            r.api_domain,
          ].join(','),
        ),
      );
      const file = new FileStore({ path });
      try {
        expect(await file.findToken({ userName: 'py2@zylker.com:7001' })).toMatchObject({
          id: String(ordered.findIndex((r) => r.user_name === 'py2@zylker.com:7001') + 1),
          apiDomain: 'https://www.zohoapis.eu',
        });
      } finally {
        await file.close();
      }

      const rerun = await runCli(['migrate', '--from', from, '--to', to, '--dry-run']);
      expect(rerun.stdout).toContain('Would copy 2 tokens: 0 new (0 with a new id), 0 updated, 2 already there');
    } finally {
      await raw.end();
    }
  });
});

describe('ztoken migrate between layouts: output', () => {
  test('no command printed a secret whole', () => {
    expect(outputs.length).toBeGreaterThan(0);
    expectNoSecrets(outputs, secrets);
  });
});
