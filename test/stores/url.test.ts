import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import { TokenStoreError } from '../../src/errors.js';
import { FileStore } from '../../src/stores/file.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { DBStore } from '../../src/stores/mysql.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { RedisStore } from '../../src/stores/redis.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { describeStoreUrl, openStore } from '../../src/stores/url.js';
import { sampleToken } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openStore', () => {
  it('memory: and sqlite::memory:', async () => {
    const memory = await openStore('memory:');
    expect(memory).toBeInstanceOf(MemoryStore);
    const sqlite = await openStore('sqlite::memory:');
    expect(sqlite).toBeInstanceOf(SQLiteStore);
    expect((sqlite as SQLiteStore).path).toBe(':memory:');
    await Promise.all([memory.close(), sqlite.close()]);
  });

  it('sqlite: with relative, absolute and triple-slash paths, and a table', async () => {
    const absolute = join(dir, 'a.db');
    const rel = relative(process.cwd(), join(dir, 'b.db'));
    for (const [url, path] of [
      [`sqlite:${absolute}`, absolute],
      [`sqlite://${absolute}`, absolute],
      [`sqlite:${rel}`, rel],
    ] as const) {
      const store = await openStore(url);
      expect((store as SQLiteStore).path).toBe(path);
      await store.close();
    }
    const tabled = await openStore(`sqlite:${absolute}?table=tokens_v2`);
    await tabled.saveToken(sampleToken('alice'));
    expect((await tabled.getTokens())[0]?.userName).toBe('alice');
    await tabled.close();
  });

  it('file: opens a FileStore on the path', async () => {
    const store = await openStore(`file:${join(dir, 'sdk_tokens.txt')}`);
    expect(store).toBeInstanceOf(FileStore);
    await store.close();
  });

  it('mysql:, postgres: and redis: URLs configure their stores (SQL stores connect when first used, Redis at open)', async () => {
    const mysql = await openStore('mysql://zoho:p%40ss@db.example:3307/crm?table=tokens');
    expect(mysql).toBeInstanceOf(DBStore);
    expect((mysql as DBStore).table).toBe('tokens');
    const pg = await openStore('postgresql://zoho@db.example:5433/crm?table=tokens');
    expect(pg).toBeInstanceOf(PostgresStore);
    const redis = await openStore('redis://127.0.0.1:6379/0?prefix=app:');
    expect(redis).toBeInstanceOf(RedisStore);
    expect((redis as RedisStore).prefix).toBe('app:');
    await Promise.all([mysql.close(), pg.close(), redis.close()]);
  });

  it('an unknown scheme lists the supported ones', async () => {
    const error = await openStore('mongodb://x').catch((e) => e);
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error.message).toMatch(
      /supported schemes are sqlite: file: mysql: postgres: postgresql: redis: rediss: redis\+cluster: rediss\+cluster: memory:/,
    );
  });

  it('describeStoreUrl masks userinfo passwords, password query parameters and unparseable userinfo', () => {
    const cases: [string, string][] = [
      ['postgres://app@db/crm?password=Sup3rSecret', 'postgres://app@db/crm?password=***'],
      ['mysql://root:p@ss@host', 'mysql://root:***@host'],
      ['mysql://root:p%40ss@host:3306/zohooauth?table=t', 'mysql://root:***@host:3306/zohooauth?table=t'],
      [
        'postgres://u@h/db?sslmode=require&SSLPassword=Sup3rSecret&PASSWORD=Sup3rSecret&table=t',
        'postgres://u@h/db?sslmode=require&SSLPassword=***&PASSWORD=***&table=t',
      ],
      ['postgresql://u:Sup3rSecret@[::1]:5432/db?pass%77ord=Sup3rSecret#x', 'postgresql://u:***@[::1]:5432/db?pass%77ord=***#x'],
      ['redis://:Sup3rSecret@host:6379/0?prefix=zoho:', 'redis://:***@host:6379/0?prefix=zoho:'],
      // Not a URL the parser accepts (an unescaped '#'): everything up to the last '@' is masked.
      ['mysql://root:Sup3r#Secret@host/db?x=1', 'mysql://root:***@host/db?x=1'],
      ['mysql://Sup3r#Secret@host/db', 'mysql://***@host/db'],
      ['mysql://root:1234?Secret@host/db', 'mysql://root:***@host/db'],
      ['mysql://root:1234/Secret@host/db', 'mysql://root:***@host/db'],
    ];
    for (const [url, shown] of cases) {
      expect(describeStoreUrl(url), url).toBe(shown);
      expect(shown).not.toMatch(/Sup3r|Secret|p@ss|p%40ss/);
    }
    for (const url of [
      'sqlite:./zohooauth.db',
      'sqlite::memory:',
      'file:./sdk tokens.txt',
      'memory:',
      'redis://host:6379/0?prefix=zoho:',
      'mysql://root@127.0.0.1:3306/zohooauth',
    ]) {
      expect(describeStoreUrl(url)).toBe(url);
    }
  });

  it('a store URL the parser refuses is an INVALID_ARGUMENT error that does not hold the password', async () => {
    const error = await openStore('mysql://root:Sup3r#Secret@127.0.0.1/db').catch((e) => e);
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error.reason).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('mysql://root:***@127.0.0.1/db');
    expect(JSON.stringify({ ...error, message: error.message, cause: String(error.cause) })).not.toContain('Secret');
  });

  it('never echoes a password', async () => {
    expect(describeStoreUrl('mysql://root:hunter2secret@host/db')).toBe('mysql://root:***@host/db');
    const error = await openStore('bogus://root:hunter2secret@host/db').catch((e) => e);
    expect(error.message).not.toContain('hunter2secret');
  });

  it('?encrypt=1 wraps the store with the keys of ZTOKEN_KEYS, and says when they are missing', async () => {
    const key = randomBytes(32).toString('base64');
    const store = await openStore(`sqlite:${join(dir, 'enc.db')}?encrypt=1`, { env: { ZTOKEN_KEYS: `k1:${key}` } });
    expect(store).toBeInstanceOf(EncryptedStore);
    const saved = await store.saveToken(sampleToken('alice'));
    expect((await store.findTokenById(saved.id))?.refreshToken).toBe(sampleToken('alice').refreshToken);
    const raw = await (store as EncryptedStore).inner.findTokenById(saved.id);
    expect(raw?.refreshToken).toMatch(/^zt2:k1:/);
    await store.close();
    await expect(openStore(`sqlite:${join(dir, 'enc2.db')}?encrypt=1`, { env: {} })).rejects.toThrow(/ZTOKEN_KEYS/);
  });

  it('?encryptFormat=zt1 keeps writing the format older releases read; a wrong or lone one is refused', async () => {
    const env = { ZTOKEN_KEYS: `k1:${randomBytes(32).toString('base64')}` };
    const path = join(dir, 'enc-zt1.db');
    const store = (await openStore(`sqlite:${path}?encrypt=1&encryptFormat=zt1`, { env })) as EncryptedStore;
    const saved = await store.saveToken(sampleToken('alice'));
    expect((await store.inner.findTokenById(saved.id))?.refreshToken).toMatch(/^zt1:k1:/);
    await store.close();
    const reader = (await openStore(`sqlite:${path}?encrypt=1`, { env })) as EncryptedStore;
    expect(await reader.findToken({ userName: 'alice' })).toEqual(saved);
    await reader.close();
    await expect(openStore(`sqlite:${path}?encrypt=1&encryptFormat=zt3`, { env })).rejects.toThrow(
      /\?encryptFormat=zt3: use zt2 \(the default\) or zt1/,
    );
    await expect(openStore(`sqlite:${path}?encryptFormat=zt1`, { env })).rejects.toThrow(/needs \?encrypt=1/);
  });
});

describe('openStore keys', () => {
  it('reads a key file named by ZTOKEN_KEY_FILE, and takes keys handed in directly', async () => {
    const { writeFileSync } = await import('node:fs');
    const keyFile = join(dir, 'keys.txt');
    const key = randomBytes(32);
    writeFileSync(keyFile, `# test key\nk9:${key.toString('base64')}\n`, { mode: 0o600 });
    const fromFile = await openStore(`sqlite:${join(dir, 'kf.db')}?encrypt=1`, { env: { ZTOKEN_KEY_FILE: keyFile } });
    const saved = await fromFile.saveToken(sampleToken('alice'));
    expect((await (fromFile as EncryptedStore).inner.findTokenById(saved.id))?.refreshToken).toMatch(/^zt2:k9:/);
    await fromFile.close();
    const direct = await openStore(`sqlite:${join(dir, 'kf.db')}?encrypt=true`, { env: {}, keys: [{ id: 'k9', key }] });
    expect((await direct.findTokenById(saved.id))?.refreshToken).toBe(sampleToken('alice').refreshToken);
    await direct.close();
  });
});
