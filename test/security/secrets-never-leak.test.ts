/**
 * Secrets never leak: every public error path and every CLI command, driven with recognisable
 * secrets (client secrets, refresh, access and grant tokens, database passwords, encryption
 * keys), fails this file if any of them appears whole in an error's message, stack, String(),
 * JSON or util.inspect form, anywhere down its `cause` chain, in a TokenManager log line or
 * event, or in what a CLI command prints (stdout and stderr, errors and --debug included). Any
 * Zoho-shaped token (`1000.<hex>.<hex>`) counts as a secret even when the test does not know it.
 *
 * Covered: validation errors of every store (remote ones when their service is reachable);
 * broken stores (a corrupt SQLite file, unparseable token files, MySQL/PostgreSQL values too long
 * and duplicate entries, a Redis key of the wrong type, unreachable servers with a password);
 * EncryptedStore and key errors; AccountsClient and TokenManager against the emulator and a
 * hostile accounts server; the zoho-sdk adapter; and every ztoken command.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as ZohoSdk from '@zohocrm/typescript-sdk-8.0';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { zohoSdkStore } from '../../src/adapters/zoho-sdk.js';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import { loadKeysFromEnv, loadKeysFromFile, parseKeyText } from '../../src/crypto/keys.js';
import {
  ReauthorizationRequiredError,
  TokenStoreError,
  type ZohoNetworkError,
  ZohoOAuthError,
  ZohoThrottleError,
  ZTokenError,
} from '../../src/errors.js';
import { TokenManager } from '../../src/manager/token-manager.js';
import type { TokenStore } from '../../src/store.js';
import { FileStore } from '../../src/stores/file.js';
import { TOKEN_FILE_HEADER } from '../../src/stores/file/token-file.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { DBStore } from '../../src/stores/mysql.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { RedisStore } from '../../src/stores/redis.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { openStore } from '../../src/stores/url.js';
import type { OAuthToken, StoredToken } from '../../src/token.js';
import { AccountsClient } from '../../src/zoho/accounts.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { outputs, runCli, startCli, tempDir } from '../cli/helpers.js';
import { REDIS_URL, uniqueName } from '../services.js';
import { adminClient, deletePrefix } from '../stores/helpers/redis-keys.js';
import { mysqlAdmin, mysqlTarget, postgresAdmin, postgresTarget } from '../stores/helpers/sql-admin.js';
import { closedPort } from '../stores/helpers/sql-net.js';
import { type HostileMode, hostileAccountsServer } from './helpers/hostile-accounts.js';
import { LeakChecker, recordingLogger, SecretRegistry } from './helpers/leak-watch.js';
import { LEAK_TEST_KEY, leakStoreFactories, servicesAvailable } from './helpers/leak-stores.js';
import { LeakyStore } from './helpers/leaky-store.js';

const services = await servicesAvailable();
const temp = tempDir('ztoken-leaks');
afterAll(() => temp.remove());

const secrets = new SecretRegistry();
const check = new LeakChecker(secrets);

/** A recognisable secret, registered: `leak-canary-<kind>-<hex>`. */
function canary(kind: string): string {
  const value = `leak-canary-${kind.replace(/\W+/g, '-')}-${randomBytes(12).toString('hex')}`;
  secrets.add(kind, value);
  return value;
}

/** A Zoho-shaped token (caught by its shape too). */
function zohoShaped(): string {
  const value = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
  secrets.add('a Zoho-shaped token', value);
  return value;
}

const CLIENT_ID = `1000.LEAKTEST${randomBytes(8).toString('hex').toUpperCase()}`;
const CLIENT_SECRET = canary('client secret');
const WRONG_SECRET = canary('wrong client secret');
const DB_PASSWORD = canary('database password');
secrets.add('the emulator client secret', DEFAULT_CLIENT.clientSecret);
secrets.add('the encryption key', LEAK_TEST_KEY.toString('base64'), LEAK_TEST_KEY.toString('base64url'), LEAK_TEST_KEY.toString('hex'));

function canaryToken(user: string, extra: Partial<OAuthToken> = {}): OAuthToken {
  return {
    userName: user,
    clientId: CLIENT_ID,
    clientSecret: canary(`client secret of ${user}`),
    refreshToken: canary(`refresh token of ${user}`),
    accessToken: canary(`access token of ${user}`),
    grantToken: canary(`grant token of ${user}`),
    expiryTime: Date.now() + 3_600_000,
    redirectUrl: 'http://127.0.0.1:8765/callback',
    apiDomain: 'https://www.zohoapis.com',
    ...extra,
  };
}

/** A new key, registered in every form it could be printed in. */
function newKey(id: string): { id: string; key: Buffer; line: string } {
  const key = randomBytes(32);
  secrets.add(`key ${id}`, key.toString('base64'), key.toString('base64url'), key.toString('hex'));
  return { id, key, line: `${id}:${key.toString('base64')}` };
}

/** Saves that every store must refuse; each carries secrets in its other fields. */
function invalidSaves(t: OAuthToken): [string, unknown][] {
  return [
    ['a refresh token over 4,096 characters', { ...t, refreshToken: String(t.refreshToken).repeat(120) }],
    ['a NUL in the access token', { ...t, accessToken: `${t.accessToken}\u0000` }],
    ['a number as grant token', { ...t, grantToken: 4242 }],
    ['an object as client secret', { ...t, clientSecret: { value: t.clientSecret } }],
    ['an unreadable expiry time', { ...t, expiryTime: 'tomorrow morning' }],
    ['a refresh token as expiry time', { ...t, expiryTime: t.refreshToken }],
    ['an id of 11 characters', { ...t, id: '12345678901' }],
    ['no grant, refresh or access token', { userName: t.userName, clientId: t.clientId, clientSecret: t.clientSecret }],
    ['an array of secrets', [t.clientSecret, t.refreshToken, t.accessToken]],
  ];
}

function invalidLookups(t: OAuthToken): [string, unknown][] {
  return [
    ['a number as refresh token', { clientId: t.clientId, clientSecret: t.clientSecret, refreshToken: 42 }],
    ['an array as user name', { userName: [t.userName], accessToken: t.accessToken }],
    ['a secret instead of a token', t.accessToken],
  ];
}

async function expectStoreError(label: string, fn: () => unknown): Promise<TokenStoreError> {
  const error = await check.thrown(label, fn);
  expect(error, label).toBeInstanceOf(TokenStoreError);
  return error as TokenStoreError;
}

describe('store validation errors', () => {
  for (const factory of leakStoreFactories(services, temp.dir)) {
    test(`${factory.name}: refused saves and lookups name fields, never values`, async () => {
      const store = await factory.create();
      try {
        const victim = canaryToken(`victim-${factory.name}`);
        const saved = await store.saveToken(victim);
        for (const [what, input] of invalidSaves(canaryToken(`bad-${factory.name}`))) {
          await expectStoreError(`${factory.name}.saveToken with ${what}`, () => store.saveToken(input as OAuthToken));
        }
        // Saving over the stored victim with a bad value must not echo the stored secrets either.
        for (const [what, input] of invalidSaves(victim).slice(0, 6)) {
          await expectStoreError(`${factory.name}.saveToken over token ${saved.id} with ${what}`, () =>
            store.saveToken({ ...(input as OAuthToken), id: saved.id }),
          );
        }
        for (const [what, input] of invalidLookups(victim)) {
          await expectStoreError(`${factory.name}.findToken with ${what}`, () => store.findToken(input as OAuthToken));
        }
        if (store instanceof EncryptedStore) {
          const t = canaryToken('encrypted-bad');
          await expectStoreError(`${factory.name}.saveToken with an unpaired surrogate`, () =>
            store.saveToken({ ...t, refreshToken: `${t.refreshToken}\uD800` }),
          );
          await expectStoreError(`${factory.name}.saveToken with a value too long once encrypted`, () =>
            store.saveToken({ ...t, accessToken: `${t.accessToken}${'x'.repeat(3_500)}` }),
          );
        }
        expect((await store.findTokenById(saved.id))?.refreshToken).toBe(victim.refreshToken);
      } finally {
        await factory.destroy(store);
      }
      const closed = await factory.create();
      await factory.destroy(closed);
      const error = await expectStoreError(`${factory.name}.saveToken after close()`, () => closed.saveToken(canaryToken('late')));
      expect(error.reason).toBe('CLOSED');
    });
  }
});

describe('broken stores', () => {
  test('a corrupt SQLite file and a duplicate entry in SQLite', async () => {
    const t = canaryToken('sqlite-corrupt');
    const corrupt = join(temp.dir, 'corrupt.db');
    writeFileSync(corrupt, `SQLite format 3\u0000${t.refreshToken} ${t.clientSecret} `.padEnd(8192, '#'), { mode: 0o600 });
    const error = await expectStoreError('SQLiteStore on a corrupt file', async () => {
      const store = new SQLiteStore({ path: corrupt });
      try {
        await store.saveToken(t);
      } finally {
        await store.close();
      }
    });
    expect(['CORRUPT', 'UNAVAILABLE']).toContain(error.reason);

    const path = join(temp.dir, 'unique.db');
    const store = new SQLiteStore({ path });
    try {
      const first = canaryToken('sqlite-first');
      await store.saveToken(first);
      const db = new Database(path);
      db.exec('CREATE UNIQUE INDEX leak_unique_refresh ON oauthtoken (refresh_token)');
      db.close();
      await expectStoreError('SQLiteStore duplicate entry', () =>
        store.saveToken(canaryToken('sqlite-second', { refreshToken: first.refreshToken })),
      );
    } finally {
      await store.close();
    }
  });

  test('unparseable token files are refused, named by file and line, and left untouched', async () => {
    const t = canaryToken('file-corrupt');
    const row = (cells: (string | undefined)[]) => cells.map((c) => c ?? '').join(',');
    const full = [
      '1',
      t.userName,
      t.clientId,
      t.clientSecret,
      t.refreshToken,
      t.accessToken,
      t.grantToken,
      String(t.expiryTime),
      t.redirectUrl,
      t.apiDomain,
    ];
    const files: [string, string][] = [
      ['a row with five columns', `${TOKEN_FILE_HEADER}\n${row(full.slice(0, 5))}`],
      ['an unterminated quote', `${TOKEN_FILE_HEADER}\n${row(full.slice(0, 3))},"${t.clientSecret},${t.refreshToken}`],
      ['a refresh token as expiry time', `${TOKEN_FILE_HEADER}\n${row([...full.slice(0, 7), t.refreshToken, ...full.slice(8)])}`],
      ['a duplicate id', `${TOKEN_FILE_HEADER}\n${row(full)}\n${row(full)}`],
      ['no header, only secrets', `${t.clientSecret},${t.refreshToken},${t.accessToken}\n${row(full)}`],
    ];
    for (const [what, content] of files) {
      const path = join(temp.dir, `corrupt-${what.replace(/\W+/g, '-')}.txt`);
      writeFileSync(path, content, { mode: 0o600 });
      const store = new FileStore({ path });
      try {
        const read = await expectStoreError(`FileStore.getTokens with ${what}`, () => store.getTokens());
        expect(read.reason).toBe('CORRUPT');
        expect(read.message).toContain(path);
        await expectStoreError(`FileStore.saveToken with ${what}`, () => store.saveToken(canaryToken('file-writer')));
      } finally {
        await store.close();
      }
      expect(readFileSync(path, 'utf8')).toBe(content);
    }
  });

  test.skipIf(!services.mysql)('MySQL: a duplicate entry, a value too long, a wrong password, a server down', async () => {
    const table = uniqueName('zt_leak_dup');
    const admin = await mysqlAdmin();
    await admin.query(
      `CREATE TABLE \`${table}\` (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id), UNIQUE KEY uq_refresh (refresh_token))`,
    );
    const store = new DBStore({ ...mysqlTarget(), table });
    try {
      const first = canaryToken('mysql-first');
      await store.saveToken(first);
      await expectStoreError('DBStore duplicate entry', () =>
        store.saveToken(canaryToken('mysql-second', { refreshToken: first.refreshToken })),
      );
      const long = `${canary('long refresh token')}${'x'.repeat(300)}`;
      await expectStoreError('DBStore value too long for varchar(255)', () =>
        store.saveToken(canaryToken('mysql-long', { refreshToken: long })),
      );
      expect((await store.getTokens()).map((x) => x.userName)).toEqual(['mysql-first']);
    } finally {
      await store.close();
      await admin.query(`DROP TABLE IF EXISTS \`${table}\``);
      await admin.end();
    }
    for (const [what, options] of [
      ['a wrong password', { ...mysqlTarget(), password: DB_PASSWORD, table }],
      ['a server down', { ...mysqlTarget(), port: await closedPort(), password: DB_PASSWORD, table }],
    ] as const) {
      const down = new DBStore(options);
      try {
        const error = await expectStoreError(`DBStore with ${what}`, () => down.saveToken(canaryToken('mysql-down')));
        expect(error.reason).toBe('UNAVAILABLE');
      } finally {
        await down.close();
      }
    }
  });

  test.skipIf(!services.postgres)(
    'PostgreSQL: a duplicate key (whose detail holds the value), a value too long, a server down',
    async () => {
      const table = uniqueName('zt_leak_dup');
      const admin = await postgresAdmin();
      await admin.query(
        `CREATE TABLE "${table}" (id varchar(10) NOT NULL PRIMARY KEY, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255))`,
      );
      await admin.query(`CREATE UNIQUE INDEX "${table}_uq_refresh" ON "${table}" (refresh_token)`);
      const store = new PostgresStore({ ...postgresTarget(), table });
      try {
        const first = canaryToken('pg-first');
        await store.saveToken(first);
        await expectStoreError('PostgresStore duplicate key', () =>
          store.saveToken(canaryToken('pg-second', { refreshToken: first.refreshToken })),
        );
        const long = `${canary('long access token')}${'y'.repeat(300)}`;
        await expectStoreError('PostgresStore value too long for varchar(255)', () =>
          store.saveToken(canaryToken('pg-long', { accessToken: long })),
        );
        expect((await store.getTokens()).map((x) => x.userName)).toEqual(['pg-first']);
      } finally {
        await store.close();
        await admin.query(`DROP TABLE IF EXISTS "${table}"`);
        await admin.end();
      }
      const down = new PostgresStore({
        connectionString: `postgres://postgres:${DB_PASSWORD}@127.0.0.1:${await closedPort()}/test`,
        table,
      });
      try {
        const error = await expectStoreError('PostgresStore with a server down', () => down.saveToken(canaryToken('pg-down')));
        expect(error.reason).toBe('UNAVAILABLE');
      } finally {
        await down.close();
      }
    },
  );

  test.skipIf(!services.redis)(
    'Redis: a key of the wrong type under the prefix (the driver error carries the arguments), a server down',
    async () => {
      const prefix = `${uniqueName('zt_leak')}:`;
      const store = new RedisStore({ url: REDIS_URL, prefix });
      const admin = adminClient();
      try {
        await store.saveToken(canaryToken('redis-first'));
        await admin.del(`${prefix}ids`);
        await admin.set(`${prefix}ids`, 'not a sorted set');
        await expectStoreError('RedisStore save over a wrong-type key', () => store.saveToken(canaryToken('redis-second')));
        await expectStoreError('RedisStore getTokens over a wrong-type key', () => store.getTokens());
      } finally {
        await store.close();
        await deletePrefix(admin, prefix);
        admin.disconnect();
      }
      const down = new RedisStore({ url: `redis://:${DB_PASSWORD}@127.0.0.1:${await closedPort()}/0`, prefix, connectTimeoutMs: 300 });
      try {
        const error = await expectStoreError('RedisStore with a server down', () => down.saveToken(canaryToken('redis-down')));
        expect(error.reason).toBe('UNAVAILABLE');
      } finally {
        await down.close();
      }
    },
  );

  test('openStore with a password in a URL that cannot be used', async () => {
    const port = await closedPort();
    for (const url of [
      `mysql://root:${DB_PASSWORD}@127.0.0.1:${port}/zohooauth`,
      `postgres://postgres:${DB_PASSWORD}@127.0.0.1:${port}/test`,
      `mongodb://root:${DB_PASSWORD}@127.0.0.1:${port}/x`,
      `mysql://root:${DB_PASSWORD}@127.0.0.1:${port}/zohooauth?table=bad;table`,
    ]) {
      await check.thrown(`openStore(${url.replace(DB_PASSWORD, '***')}) then a read`, async () => {
        const store = await openStore(url);
        try {
          await store.getTokens();
        } finally {
          await store.close();
        }
      });
    }
  });
});

describe('EncryptedStore and keys', () => {
  test('a wrong key, an unknown key, a tampered or malformed value: CRYPTO errors without values or keys', async () => {
    const k1 = newKey('k1');
    const k2 = newKey('k2');
    const path = join(temp.dir, 'encrypted.db');
    const writer = new EncryptedStore(new SQLiteStore({ path }), { keys: [k1] });
    const t = canaryToken('encrypted-victim');
    const saved = await writer.saveToken(t);
    await writer.close();

    const wrongK1 = newKey('k1');
    for (const [what, keys] of [
      ['a wrong key k1', [wrongK1]],
      ['only key k2', [k2]],
    ] as const) {
      const reader = new EncryptedStore(new SQLiteStore({ path }), { keys: [...keys] });
      try {
        for (const [op, fn] of [
          ['findTokenById', () => reader.findTokenById(saved.id)],
          ['findToken by user name', () => reader.findToken({ userName: t.userName })],
          ['getTokens', () => reader.getTokens()],
          ['rotateKeys', () => reader.rotateKeys()],
        ] as const) {
          const error = await expectStoreError(`EncryptedStore.${op} with ${what}`, fn);
          expect(error.reason).toBe('CRYPTO');
        }
        expect(await reader.findToken({ clientId: CLIENT_ID, clientSecret: t.clientSecret, refreshToken: t.refreshToken })).toBeNull();
      } finally {
        await reader.close();
      }
    }

    const raw = new SQLiteStore({ path });
    const row = (await raw.findTokenById(saved.id)) as StoredToken;
    const flipped = (value: string) => `${value.slice(0, -3)}${value.at(-3) === 'A' ? 'B' : 'A'}${value.slice(-2)}`;
    await raw.saveToken({ ...row, refreshToken: flipped(String(row.refreshToken)), accessToken: 'zt1:k1:!!not-base64!!' });
    await raw.close();
    const reader = new EncryptedStore(new SQLiteStore({ path }), { keys: [k1] });
    try {
      const error = await expectStoreError('EncryptedStore.findTokenById of a tampered value', () => reader.findTokenById(saved.id));
      expect(error.reason).toBe('CRYPTO');
      await expectStoreError('EncryptedStore.getTokens of a tampered value', () => reader.getTokens());
    } finally {
      await reader.close();
    }
  });

  test('key validation: short keys, swapped entries, loose key files, bad ZTOKEN_KEYS', async () => {
    const good = newKey('k1');
    const shortKey = randomBytes(31).toString('base64');
    secrets.add('a 31-byte key', shortKey);
    const swapped = `${good.key.toString('base64')}:k1`;
    const cases: [string, () => unknown][] = [
      ['EncryptedStore with a 31-byte key', () => new EncryptedStore(new MemoryStore(), { keys: [{ id: 'k1', key: shortKey }] })],
      [
        'EncryptedStore with the key as id',
        () => new EncryptedStore(new MemoryStore(), { keys: [{ id: good.key.toString('base64'), key: good.key }] }),
      ],
      ['EncryptedStore with a duplicate id', () => new EncryptedStore(new MemoryStore(), { keys: [good, { id: 'k1', key: good.key }] })],
      ['parseKeyText of a swapped entry', () => parseKeyText(swapped, 'test')],
      ['parseKeyText with a short key', () => parseKeyText(`k1:${shortKey}`, 'test')],
      ['loadKeysFromEnv of a swapped entry', () => loadKeysFromEnv({ ZTOKEN_KEYS: `${good.line},${swapped}` })],
      ['loadKeysFromEnv with a non-base64 key', () => loadKeysFromEnv({ ZTOKEN_KEYS: `k1:${good.key.toString('hex')}!` })],
      ['openStore ?encrypt=1 with a short key', () => openStore('memory:?encrypt=1', { env: { ZTOKEN_KEYS: `k1:${shortKey}` } })],
    ];
    const loose = join(temp.dir, 'loose.keys');
    writeFileSync(loose, `${good.line}\n`, { mode: 0o644 });
    chmodSync(loose, 0o644);
    cases.push(['loadKeysFromFile of a loose file', () => loadKeysFromFile(loose)]);
    const swappedFile = join(temp.dir, 'swapped.keys');
    writeFileSync(swappedFile, `# keys\n${swapped}\n`, { mode: 0o600 });
    cases.push(['loadKeysFromFile of a swapped entry', () => loadKeysFromFile(swappedFile)]);
    for (const [label, fn] of cases) await expectStoreError(label, fn);
  });
});

describe('Zoho accounts server and TokenManager', () => {
  let emulator: Emulator;
  let hostile: Awaited<ReturnType<typeof hostileAccountsServer>>;
  const logger = recordingLogger();
  const events: unknown[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], limits: { grantsPer10Min: 1000 } });
    hostile = await hostileAccountsServer();
  });
  afterAll(async () => {
    await emulator?.close();
    await hostile?.close();
  });

  const client = (options: Partial<ConstructorParameters<typeof AccountsClient>[0]> = {}) =>
    new AccountsClient({ accountsUrl: emulator.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...options });

  function manager(store: TokenStore, options: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}): TokenManager {
    const m = new TokenManager({
      store,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      accountsUrl: emulator.url,
      now: () => emulator.clock.now(),
      logger,
      ...options,
    });
    for (const name of ['refresh', 'save', 'revoke', 'error'] as const) m.on(name, (payload: unknown) => events.push(payload));
    return m;
  }

  function grant(userEmail: string): string {
    const code = emulator.issueGrantToken({ clientId: CLIENT_ID, userEmail });
    secrets.add(`grant code for ${userEmail}`, code);
    return code;
  }

  test('AccountsClient: invalid_code, invalid_client with a wrong secret, unknown refresh and revoke', async () => {
    const zoho = client();
    const badCode = await check.thrown('exchangeGrant of an unknown canary code', () => zoho.exchangeGrant(canary('unknown grant code')));
    expect((badCode as ZohoOAuthError).zohoError).toBe('invalid_code');
    await check.thrown('exchangeGrant of an unknown Zoho-shaped code', () => zoho.exchangeGrant(zohoShaped()));
    const wrong = client({ clientSecret: WRONG_SECRET });
    const invalidClient = await check.thrown('exchangeGrant with a wrong client secret', () =>
      wrong.exchangeGrant(grant('alice@zylker.com')),
    );
    expect((invalidClient as ZohoOAuthError).zohoError).toBe('invalid_client');
    await check.thrown('refresh with a wrong client secret', () => wrong.refresh(zohoShaped()));
    await check.thrown('refresh of an unknown refresh token', () => zoho.refresh(canary('unknown refresh token')));
    await check.thrown('exchangeGrant of a spent code', async () => {
      const code = grant('bob@zylker.com');
      const tokens = await zoho.exchangeGrant(code);
      secrets.add('tokens of a spent code', tokens.accessToken, tokens.refreshToken);
      await zoho.exchangeGrant(code);
    });
    await check.thrown(
      'AccountsClient without a secret',
      () => new AccountsClient({ accountsUrl: emulator.url, clientId: CLIENT_ID, clientSecret: '' }),
    );
  });

  test('AccountsClient: timeout, connection refused, a fetch that throws with the request body', async () => {
    const timeout = await check.thrown('refresh against a server that never answers', () =>
      client({ accountsUrl: hostile.accountsUrl('silent'), timeoutMs: 200 }).refresh(canary('refresh sent to a silent server')),
    );
    expect((timeout as ZohoNetworkError).reason).toBe('TIMEOUT');
    const refused = await check.thrown('refresh against a closed port', async () =>
      client({ accountsUrl: `http://127.0.0.1:${await closedPort()}` }).refresh(canary('refresh sent to a closed port')),
    );
    expect((refused as ZohoNetworkError).reason).toBe('CONNECTION_REFUSED');
    const throwingFetch: typeof fetch = async (_url, init) => {
      throw new TypeError(`fetch failed: ${String(init?.body)}`, {
        cause: Object.assign(new Error(`socket hang up while sending ${String(init?.body)}`), { code: 'ECONNRESET' }),
      });
    };
    await check.thrown('exchangeGrant with a fetch that echoes the body', () =>
      client({ fetch: throwingFetch }).exchangeGrant(canary('grant in a failed fetch')),
    );
    await check.thrown('revoke with a fetch that echoes the body', () =>
      client({ fetch: throwingFetch }).revoke(canary('refresh in a failed fetch')),
    );
  });

  test('AccountsClient: a hostile server echoing secrets in HTML, JSON errors, a 500 and odd answers', async () => {
    const modes: HostileMode[] = ['echo-html', 'echo-json-error', 'echo-error-code', 'echo-500', 'echo-no-access-token', 'echo-throttle'];
    for (const mode of modes) {
      const zoho = client({ accountsUrl: hostile.accountsUrl(mode) });
      const errors = [
        await check.thrown(`exchangeGrant against ${mode}`, () => zoho.exchangeGrant(canary(`grant sent to ${mode}`))),
        await check.thrown(`refresh against ${mode}`, () => zoho.refresh(canary(`refresh sent to ${mode}`))),
      ];
      for (const error of errors) expect(error).toBeInstanceOf(ZTokenError);
    }
    for (const mode of ['echo-revoke-status', 'echo-html', 'echo-json-error'] as const) {
      await check.thrown(`revoke against ${mode}`, () =>
        client({ accountsUrl: hostile.accountsUrl(mode) }).revoke(canary(`revoked at ${mode}`)),
      );
    }
  });

  test('TokenManager: revoked refresh token -> ReauthorizationRequiredError, throttle, unreachable Zoho, events and every log line', async () => {
    const store = new MemoryStore();
    const zoho = manager(store);
    const alice = await zoho.authorize({ grantToken: grant('alice@zylker.com') });
    secrets.addToken('alice', alice);
    emulator.invalidateAccessToken(String(alice.accessToken));
    const response = await zoho.fetch({ id: alice.id }, '/crm/v8/Leads?per_page=1'); // 401, one refresh, one retry
    expect(response.status).toBe(200);
    secrets.addToken('alice refreshed', await store.findTokenById(alice.id));

    emulator.revokeRefreshToken(String(alice.refreshToken));
    emulator.clock.advance(61 * 60_000);
    const reauth = await check.thrown('getAccessToken of a revoked refresh token', () => zoho.getAccessToken({ id: alice.id }));
    expect(reauth).toBeInstanceOf(ReauthorizationRequiredError);
    expect((reauth as Error).cause).toBeInstanceOf(ZohoOAuthError);
    await check.thrown('getAccessToken again (marked for re-authorization)', () => zoho.getAccessToken({ userName: alice.userName ?? '' }));

    // Revoking a token Zoho no longer knows: deleted locally with a warning.
    const bobCode = grant('bob@zylker.com');
    const bob = await zoho.authorize({ grantToken: bobCode });
    secrets.addToken('bob', bob);
    emulator.revokeRefreshToken(String(bob.refreshToken));
    await zoho.revoke({ id: bob.id });
    await check.thrown('revoke of a token no longer stored', () => zoho.revoke({ id: bob.id }));
    await check.thrown('authorize with a spent grant code', () => manager(new MemoryStore()).authorize({ grantToken: bobCode }));
    await check.thrown('authorize with a wrong client secret', () =>
      manager(new MemoryStore(), { clientSecret: WRONG_SECRET }).authorize({ grantToken: grant('carol@zylker.com') }),
    );

    // Throttle: two refreshes in ten minutes are one too many.
    const throttling = await startEmulator({
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
      limits: { accessPerRefreshPer10Min: 1 },
    });
    try {
      const throttled = manager(new MemoryStore(), {
        accountsUrl: throttling.url,
        now: () => throttling.clock.now(),
        refreshSkewMs: Number.POSITIVE_INFINITY,
      });
      const dave = await throttled.authorize({
        grantToken: throttling.issueGrantToken({ clientId: CLIENT_ID, userEmail: 'alice@zylker.com' }),
      });
      secrets.addToken('dave', dave);
      let throttle: unknown;
      for (let i = 0; i < 12 && !throttle; i++) {
        try {
          secrets.add('dave refreshed', (await throttled.accounts.refresh(String(dave.refreshToken))).accessToken);
        } catch (error) {
          throttle = error;
        }
      }
      expect(throttle).toBeInstanceOf(ZohoThrottleError);
      check.error('AccountsClient.refresh throttled', throttle);
      await throttled.getToken({ id: dave.id }); // still valid: served, the throttle reported as an event
      await throttled.settle();
      // Expired inside the throttle window: the throttle reaches the caller.
      const seeded = new MemoryStore();
      const expired = await seeded.saveToken({ ...dave, id: undefined, expiryTime: throttling.clock.now() - 1000 });
      const again = manager(seeded, { accountsUrl: throttling.url, now: () => throttling.clock.now() });
      const error = await check.thrown('getToken of an expired token while Zoho throttles', () => again.getToken({ id: expired.id }));
      expect(error).toBeInstanceOf(ZohoThrottleError);
    } finally {
      await throttling.close();
    }

    // A slow Zoho: the emulator answers after 400 ms, the manager waits 100.
    const slow = await startEmulator({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], latencyMs: 400 });
    try {
      const impatient = manager(new MemoryStore(), { accountsUrl: slow.url, timeoutMs: 100 });
      const code = slow.issueGrantToken({ clientId: CLIENT_ID, userEmail: 'alice@zylker.com' });
      secrets.add('grant code for the slow emulator', code);
      const timeout = await check.thrown('authorize against a slow Zoho', () => impatient.authorize({ grantToken: code }));
      expect((timeout as ZohoNetworkError).reason).toBe('TIMEOUT');
    } finally {
      await slow.close();
    }

    // Zoho unreachable and hostile: the stored token is expired, so the errors reach the caller.
    for (const accountsUrl of [
      `http://127.0.0.1:${await closedPort()}`,
      hostile.accountsUrl('echo-html'),
      hostile.accountsUrl('echo-throttle'),
    ]) {
      const seeded = new MemoryStore();
      const expired = await seeded.saveToken(canaryToken('expired-user', { expiryTime: emulator.clock.now() - 1000 }));
      await check.thrown(`getAccessToken with Zoho at ${accountsUrl}`, () =>
        manager(seeded, { accountsUrl }).getAccessToken({ id: expired.id }),
      );
    }

    expect(events.length).toBeGreaterThan(5);
    for (const [i, event] of events.entries()) {
      if (event instanceof Error) check.error(`manager event ${i}`, event);
      else check.text(`manager event ${i}`, JSON.stringify(event));
    }
    expect(logger.lines.some((line) => line.startsWith('debug: '))).toBe(true);
    expect(logger.lines.some((line) => line.startsWith('warn: '))).toBe(true);
    for (const [i, line] of logger.lines.entries()) check.text(`manager log line ${i}`, line);
  });

  test('TokenManager logs: a custom store that echoes secrets in its errors, a user lookup that fails', async () => {
    const lines = recordingLogger();
    const leaky = new LeakyStore(new MemoryStore());
    const zoho = new TokenManager({
      store: leaky,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      accountsUrl: emulator.url,
      now: () => emulator.clock.now(),
      logger: lines,
    });
    const errors: Error[] = [];
    zoho.on('error', (error) => errors.push(error));
    const erin = await zoho.authorize({ grantToken: grant('alice@zylker.com') });
    secrets.addToken('erin', erin);
    emulator.clock.advance(61 * 60_000);
    leaky.failSaves = true;
    const refreshed = await zoho.getToken({ id: erin.id }); // Zoho refreshed; the store refused the save
    secrets.addToken('erin refreshed', refreshed);
    expect(refreshed.accessToken).not.toBe(erin.accessToken);
    expect(lines.lines.some((line) => line.startsWith('error: Could not save the refreshed token'))).toBe(true);
    leaky.failSaves = false;

    // The CRM API answers the user lookup with an HTML page echoing the Authorization header.
    const echoingFetch: typeof fetch = async (url, init) => {
      if (String(url).includes('/crm/v8/')) {
        const auth = new Headers(init?.headers).get('authorization');
        return new Response(`${auth} <html>denied</html>`, { status: 200, headers: { 'content-type': 'text/html' } });
      }
      return fetch(url, init);
    };
    const lookup = new TokenManager({
      store: new MemoryStore(),
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      accountsUrl: emulator.url,
      fetch: echoingFetch,
      logger: lines,
    });
    const frank = await lookup.authorize({ grantToken: grant('bob@zylker.com') });
    secrets.addToken('frank', frank);
    expect(frank.userName).toBeUndefined();
    expect(lines.lines.some((line) => line.startsWith("warn: Could not read the user's name"))).toBe(true);
    for (const [i, line] of lines.lines.entries()) check.text(`log line ${i} with a leaky store`, line);
  });

  test('TokenManager errors: a custom store that echoes secrets fails every call with a scrubbed TokenStoreError', async () => {
    const leaky = new LeakyStore(new MemoryStore());
    const zoho = manager(leaky);
    const gina = await zoho.authorize({ grantToken: grant('gina@zylker.com') });
    secrets.addToken('gina', gina);
    const storeError = async (label: string, fn: () => unknown, reason: string) => {
      const error = await expectStoreError(label, fn);
      expect(error.reason, label).toBe(reason);
      expect(error.message, label).toMatch(/ failed in LeakyStore: Error: ER_DUP_ENTRY: Duplicate entry '/);
      // The driver's error survives as a scrubbed copy: its name, message and stack, no extra fields.
      expect((error.cause as Error).name, label).toBe('Error');
      expect((error.cause as Error).stack, label).toContain('leaky-store.ts');
      expect(error.cause, label).not.toHaveProperty('sql');
    };
    leaky.failAll = true;
    await storeError(
      'getAccessToken by user over a store that echoes the lookup',
      () => zoho.getAccessToken({ userName: 'gina' }),
      'UNAVAILABLE',
    );
    await storeError(
      'getAccessToken by refresh token over a store that echoes it',
      () => zoho.getAccessToken({ refreshToken: String(gina.refreshToken) }),
      'UNAVAILABLE',
    );
    await storeError(
      'authorize over a store that echoes the grant code',
      () => zoho.authorize({ grantToken: zohoShaped() }),
      'UNAVAILABLE',
    );
    await storeError('revoke over a store that echoes the stored tokens', () => zoho.revoke({ id: gina.id }), 'UNAVAILABLE');
    leaky.failAll = false;
    leaky.failLocks = true;
    emulator.clock.advance(61 * 60_000);
    await storeError('a refresh whose lock fails echoing the stored tokens', () => zoho.getAccessToken({ id: gina.id }), 'UNAVAILABLE');
    leaky.failLocks = false;
    leaky.failSaves = true;
    await storeError(
      'authorize whose save fails echoing the new tokens',
      () => zoho.authorize({ grantToken: grant('hana@zylker.com') }),
      'WRITE_FAILED',
    );
    leaky.failSaves = false;
    // Nothing was lost: the stored token is as it was, and still refreshes.
    expect((await leaky.findTokenById(gina.id))?.refreshToken).toBe(gina.refreshToken);
    secrets.add('gina refreshed', await zoho.getAccessToken({ id: gina.id }));
    // What the manager emitted and logged meanwhile (the describe's shared event list and log).
    for (const [i, event] of events.entries()) {
      if (event instanceof Error) check.error(`manager event ${i} with a failing custom store`, event);
      else check.text(`manager event ${i} with a failing custom store`, JSON.stringify(event));
    }
    for (const [i, line] of logger.lines.entries()) check.text(`manager log line ${i} with a failing custom store`, line);
  });
});

describe('zoho-sdk adapter', () => {
  const Z = createRequire(import.meta.url)('@zohocrm/typescript-sdk-8.0') as typeof ZohoSdk;
  const sdkToken = (t: OAuthToken): ZohoSdk.OAuthToken =>
    new Z.OAuthBuilder()
      .clientId(String(t.clientId))
      .clientSecret(String(t.clientSecret))
      .refreshToken(String(t.refreshToken))
      .accessToken(String(t.accessToken))
      .build() as ZohoSdk.OAuthToken;

  test("SDKExceptions for bad tokens, unknown ids and a store's failures carry no secrets", async () => {
    const sdkError = async (label: string, fn: () => unknown) => {
      expect(await check.thrown(label, fn), label).toBeInstanceOf(Z.SDKException);
    };
    const adapter = zohoSdkStore(new MemoryStore());
    const good = sdkToken(canaryToken('sdk-good'));
    await adapter.saveToken(good);

    const badExpiry = sdkToken(canaryToken('sdk-bad-expiry'));
    badExpiry.setExpiresIn(`soon-${badExpiry.getAccessToken()}`);
    await sdkError('adapter.saveToken with an unreadable expiry', () => adapter.saveToken(badExpiry));
    const empty = sdkToken(canaryToken('sdk-empty'));
    empty.setRefreshToken(null as unknown as string);
    empty.setAccessToken(null as unknown as string);
    await sdkError('adapter.saveToken without grant, refresh or access token', () => adapter.saveToken(empty));
    const long = sdkToken(canaryToken('sdk-long'));
    long.setRefreshToken(String(long.getRefreshToken()).repeat(100));
    await sdkError('adapter.saveToken with a refresh token too long', () => adapter.saveToken(long));
    await sdkError('adapter.saveToken of a plain object with secrets', () => adapter.saveToken(canaryToken('sdk-plain')));
    await sdkError('adapter.findTokenById of an unknown id', () => adapter.findTokenById('999'));
    await sdkError('adapter.findTokenById of an invalid id', () => adapter.findTokenById(' 1 '));

    // A custom store whose driver echoes values ("Duplicate entry '...'"), as raw MySQL does.
    const inner = new LeakyStore(new MemoryStore());
    const leaky = zohoSdkStore(inner);
    const stored = { ...canaryToken('sdk-leaky'), refreshToken: zohoShaped(), accessToken: zohoShaped() };
    await inner.saveToken(stored);
    inner.failAll = true;
    const given = sdkToken(stored);
    await sdkError('adapter.saveToken over a store that echoes the token', () => leaky.saveToken(given));
    await sdkError('adapter.findToken over a store that echoes the token', () => leaky.findToken(given));
    await sdkError('adapter.getTokens over a store that echoes Zoho tokens', () => leaky.getTokens());
    await sdkError('adapter.findTokenById over a store that echoes Zoho tokens', () => leaky.findTokenById('1'));
    await sdkError('adapter.deleteTokens over a store that echoes Zoho tokens', () => leaky.deleteTokens());
    const closed = zohoSdkStore(new MemoryStore());
    await closed.store.close();
    await sdkError('adapter.saveToken on a closed store', () => closed.saveToken(sdkToken(canaryToken('sdk-closed'))));
  });
});

describe('ztoken commands', () => {
  let emulator: Emulator;
  const db = join(temp.dir, 'cli.db');
  let env: Record<string, string>;
  const ids: Record<string, string> = {};
  const CHILD = { timeoutMs: 90_000 };
  const authUrl = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/v2\/auth\?\S+)/;

  /** Every token the CLI's stores hold now, registered as secrets. */
  async function harvest(path: string, encryptedWith?: { id: string; key: Buffer }): Promise<StoredToken[]> {
    const inner = new SQLiteStore({ path });
    const store = encryptedWith ? new EncryptedStore(inner, { keys: [encryptedWith] }) : inner;
    try {
      const tokens = await store.getTokens();
      for (const token of tokens) secrets.addToken(`stored token ${token.id} (${token.userName})`, token);
      return tokens;
    } finally {
      await store.close();
    }
  }

  function grant(userEmail: string): string {
    const code = emulator.issueGrantToken({ clientId: CLIENT_ID, userEmail });
    secrets.add(`CLI grant code for ${userEmail}`, code);
    return code;
  }

  /** Plays the browser: follows the printed sign-in URL; the emulator redirects to the callback. */
  async function signIn(running: ReturnType<typeof startCli>): Promise<void> {
    const link = authUrl.exec(await running.waitFor(authUrl))?.[1] ?? '';
    const page = await fetch(link);
    outputs.push({ args: ['(login callback page)'], text: await page.text() });
  }

  beforeAll(async () => {
    emulator = await startEmulator({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], limits: { grantsPer10Min: 1000 } });
    env = { ZOHO_CLIENT_ID: CLIENT_ID, ZOHO_CLIENT_SECRET: CLIENT_SECRET, ZOHO_ACCOUNTS_URL: emulator.url, ZTOKEN_STORE: `sqlite:${db}` };
    const users = ['show', 'refresh', 'revoke', 'delete', 'wrong'];
    const results = await Promise.all(
      users.map((user) => runCli(['exchange', '--grant-token', grant('alice@zylker.com'), '--user', `cli-${user}`], { env, ...CHILD })),
    );
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    for (const token of await harvest(db)) ids[String(token.userName).replace('cli-', '')] = token.id;
  });
  afterAll(async () => emulator?.close());

  test('every command, its error paths and --debug print no secret', async () => {
    const port = await closedPort();
    const k1 = newKey('k1');
    const k2 = newKey('k2');
    const keyFile = join(temp.dir, 'cli.keys');
    writeFileSync(keyFile, `${k1.line}\n${k2.line}\n`, { mode: 0o600 });
    const wrongKeyFile = join(temp.dir, 'cli-wrong.keys');
    writeFileSync(wrongKeyFile, `${newKey('k1').line}\n`, { mode: 0o600 });
    const encrypted = join(temp.dir, 'cli-encrypted.db');
    const copy = new EncryptedStore(new SQLiteStore({ path: encrypted }), { keys: [k1] });
    for (const token of await harvest(db)) await copy.saveToken(token);
    await copy.close();
    const encUrl = `sqlite:${encrypted}?encrypt=1`;
    const wrongEnv = { ...env, ZOHO_CLIENT_SECRET: WRONG_SECRET };

    /** Runs command lines in parallel; each must exit with its expected code. */
    const runAll = async (runs: [number, string[], Record<string, string>?][]) => {
      const results = await Promise.all(runs.map(([, args, childEnv]) => runCli(args, { env: childEnv ?? env, ...CHILD })));
      for (const [i, result] of results.entries()) {
        const [code, args] = runs[i] ?? [];
        expect(result.code, `ztoken ${args?.join(' ')}\n${result.stderr}`).toBe(code);
      }
      return results;
    };
    await runAll([
      [0, ['list']],
      [0, ['list', '--json']],
      [0, ['show', ids.show ?? '']],
      [0, ['show', ids.show ?? '', '--json']],
      [1, ['show', '999']],
      [0, ['refresh', ids.refresh ?? '', '--debug']],
      [1, ['refresh', ids.wrong ?? ''], wrongEnv],
      [1, ['refresh', ids.wrong ?? '', '--debug', '--client-secret', WRONG_SECRET]],
      [1, ['refresh', '999']],
      [0, ['revoke', ids.revoke ?? '']],
      [1, ['revoke', '999', '--debug']],
      [0, ['delete', ids.delete ?? '']],
      [1, ['delete', '999']],
      [0, ['purge', '--older-than', '1s', '--dry-run']],
      [0, ['purge', '--expired']],
      [0, ['verify']],
    ]);
    await harvest(db);

    const mysqlUrl = `mysql://root:${DB_PASSWORD}@127.0.0.1:${port}/zohooauth`;
    const migrated = `sqlite:${join(temp.dir, 'cli-migrated.db')}?encrypt=1`;
    const second = await runAll([
      [1, ['exchange', '--grant-token', grant('bob@zylker.com'), '--store', 'memory:'], wrongEnv],
      [1, ['exchange', '--grant-token', canary('CLI unknown grant'), '--store', 'memory:', '--debug']],
      [2, ['exchange', grant('bob@zylker.com')]],
      [0, ['migrate', '--from', `sqlite:${db}`, '--to', 'memory:']],
      [1, ['migrate', '--from', `sqlite:${db}`, '--to', mysqlUrl, '--debug']],
      [0, ['migrate', '--from', `sqlite:${db}`, '--to', migrated, '--key-file', keyFile]],
      [1, ['verify', '--store', `postgres://postgres:${DB_PASSWORD}@127.0.0.1:${port}/test`]],
      [1, ['list', '--store', mysqlUrl, '--debug']],
      [1, ['list', '--store', `redis://:${DB_PASSWORD}@127.0.0.1:${port}/0`]],
      [0, ['list', '--store', encUrl, '--key-file', keyFile]],
      [1, ['show', '1', '--json', '--store', encUrl, '--key-file', wrongKeyFile, '--debug']],
      [1, ['rotate-key', '--store', encUrl, '--key-file', wrongKeyFile]],
      [0, ['rotate-key', '--store', encUrl, '--debug'], { ...env, ZTOKEN_KEY_FILE: keyFile }],
      [0, ['keygen'], { ...env, ZTOKEN_KEYS: k1.line }],
      [0, ['demo', '--store', 'sqlite::memory:']],
    ]);
    expect(second[13]?.stdout).toMatch(/^k\d{8}-[0-9a-f]{4}:[A-Za-z0-9+/]{43}=\n$/); // keygen prints its own key, and only it
    await harvest(encrypted, k2);

    // login: signed in through the browser flow, and refused by Zoho (wrong secret) with the page checked.
    const loginDb = join(temp.dir, 'cli-login.db');
    const login = startCli(['login', '--no-open', '--user', 'cli-login', '--store', `sqlite:${loginDb}`, '--debug', '--port', '0'], {
      env,
      ...CHILD,
    });
    const refusedLogin = startCli(['login', '--no-open', '--store', `sqlite:${loginDb}`, '--port', '0'], { env: wrongEnv, ...CHILD });
    const emulatorCommand = startCli(['emulator', '--port', '0'], { direct: true, ...CHILD });
    await Promise.all([signIn(login), signIn(refusedLogin), emulatorCommand.waitFor(/Press Ctrl-C to stop\./)]);
    emulatorCommand.child.kill('SIGTERM');
    const [signedIn, refused, stopped] = await Promise.all([login.result, refusedLogin.result, emulatorCommand.result]);
    expect(signedIn.code, signedIn.stderr).toBe(0);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('invalid_client');
    expect(stopped.code).toBe(0);
    await harvest(loginDb);
    await harvest(db);

    expect(outputs.length).toBeGreaterThan(35);
    for (const { args, text } of outputs) {
      // keygen's stdout is its key: exempt for that key only (no stored token or client secret).
      check.text(`ztoken ${args.join(' ')}`, text);
    }
  });
});

afterAll(() => {
  // What was covered, for the test log.
  console.info(`secrets-never-leak: ${check.checked.length} texts and errors checked against ${secrets.size} secrets`);
});
