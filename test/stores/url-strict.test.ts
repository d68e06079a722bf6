// openStore is strict: an unknown URL parameter is an error listing the valid ones with a "did you
// mean", the documented options are accepted in the URL, and `create: false` opens only a store
// that exists, on every store (real files, MariaDB, PostgreSQL and Redis), creating nothing.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/stores/postgres.js';
import type { RedisStore } from '../../src/stores/redis.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { openStore } from '../../src/stores/url.js';
import { sampleToken } from '../../src/testing/index.js';
import { MYSQL_URL, POSTGRES_URL, REDIS_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropMySqlTable, dropPostgresTable } from './helpers/sql-admin.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-url14-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(promise: Promise<unknown>): Promise<Error & { reason?: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!error) throw new Error('expected openStore to fail');
  return error;
}

describe('unknown URL parameters', () => {
  it('are errors that list the valid parameters of the scheme, with a "did you mean"', async () => {
    const path = join(dir, 'typo.db');
    const error = await refusal(openStore(`sqlite:${path}?tabel=foo`));
    expect(error.reason).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe(
      'Unknown parameter ?tabel= in the sqlite: store URL (did you mean ?table=?); sqlite: URLs take ?table= ?layout= ?busyTimeoutMs= ?encrypt= ?encryptFormat=',
    );
    expect(existsSync(path)).toBe(false);
    expect((await refusal(openStore(`file:${join(dir, 't.txt')}?lockstale=5`))).message).toMatch(
      /\?lockstale=.*did you mean \?lockStaleMs=\?.*file: URLs take \?lockStaleMs= \?lockWaitMs= \?layout= \?encrypt=/,
    );
    expect((await refusal(openStore('redis://127.0.0.1:6379/0?prefx=a:'))).message).toMatch(/did you mean \?prefix=\?/);
    expect((await refusal(openStore('mysql://root@127.0.0.1/test?tabel=x'))).message).toMatch(/did you mean \?table=\?/);
    expect((await refusal(openStore('postgres://u@h/db?shema=x'))).message).toMatch(/did you mean \?schema=\?/);
    expect((await refusal(openStore('memory:?table=x'))).message).toMatch(/memory: URLs take \?encrypt= \?encryptFormat=$/);
    expect((await refusal(openStore(`sqlite:${path}?encrypt=yes`))).message).toMatch(/encrypt=1/);
    expect((await refusal(openStore(`sqlite:${path}?busyTimeoutMs=soon`))).message).toMatch(/busyTimeoutMs= must be a number/);
    expect((await refusal(openStore(`file:${path}?lockStaleMs=-1`))).message).toMatch(/lockStaleMs -1/);
  });

  it('a misspelled password parameter is not echoed', async () => {
    const error = await refusal(openStore('postgres://u@h/db?pasword=Sup3rSecretValue'));
    expect(error.message).toMatch(/did you mean \?password=\?/);
    expect(error.message).not.toContain('Sup3rSecretValue');
  });

  it("the stores' documented options are accepted in the URL", async () => {
    const sqlite = await openStore(`sqlite:${join(dir, 'opts.db')}?table=other_14&busyTimeoutMs=100`);
    expect(sqlite).toBeInstanceOf(SQLiteStore);
    await sqlite.close();
    const pg = await openStore('postgres://u@db.example/crm?schema=app&table=tokens&max=3&sslmode=disable&application_name=x');
    expect(pg).toBeInstanceOf(PostgresStore);
    expect((pg as PostgresStore).schema).toBe('app');
    expect((pg as PostgresStore).table).toBe('tokens');
    await pg.close();
    const file = await openStore(`file:${join(dir, 'opts.txt')}?lockStaleMs=2000&lockWaitMs=3000`);
    await file.close();
  });
});

describe('openStore(url, { create: false }) on files', () => {
  it('sqlite: a missing file is NOT_FOUND and is not created; a missing table is NOT_FOUND', async () => {
    const path = join(dir, 'missing.db');
    const error = await refusal(openStore(`sqlite:${path}`, { create: false }));
    expect(error.reason).toBe('NOT_FOUND');
    expect(error.message).toContain(path);
    expect(existsSync(path)).toBe(false);

    const made = await openStore(`sqlite:${path}`);
    await made.saveToken(sampleToken('alice'));
    await made.close();
    const existing = await openStore(`sqlite:${path}`, { create: false });
    expect((await existing.getTokens()).map((t) => t.userName)).toEqual(['alice']);
    await existing.close();
    const other = await refusal(openStore(`sqlite:${path}?table=other`, { create: false }));
    expect(other.reason).toBe('NOT_FOUND');
    expect(other.message).toMatch(/No table "other"/);
    const check = new (await import('better-sqlite3')).default(path, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'other'").all()).toEqual([]);
    check.close();
  });

  it('file: a missing token file is NOT_FOUND; an existing one opens', async () => {
    const path = join(dir, 'nothere.txt');
    expect((await refusal(openStore(`file:${path}`, { create: false }))).reason).toBe('NOT_FOUND');
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, '');
    const store = await openStore(`file:${path}`, { create: false });
    expect(await store.getTokens()).toEqual([]);
    await store.close();
  });
});

const mysqlUp = await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL');
const postgresUp = await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL');
const redisUp = await serviceAvailable('Redis', REDIS_URL, 'ZTOKEN_REDIS_URL');

describe.skipIf(!mysqlUp)('openStore(url, { create: false }) on MySQL', () => {
  const table = uniqueName('i14_my');
  afterAll(() => dropMySqlTable(table));
  it('a missing table is NOT_FOUND at open and is not created; once made, it opens', async () => {
    const url = `${MYSQL_URL}?table=${table}`;
    const error = await refusal(openStore(url, { create: false }));
    expect(error.reason).toBe('NOT_FOUND');
    expect(error.message).toContain(table);
    const writer = await openStore(url);
    await writer.saveToken(sampleToken('alice'));
    await writer.close();
    const reader = await openStore(url, { create: false });
    expect((await reader.getTokens()).map((t) => t.userName)).toEqual(['alice']);
    await reader.close();
  });
});

describe.skipIf(!postgresUp)('openStore(url, { create: false }) on PostgreSQL', () => {
  const table = uniqueName('i14_pg');
  afterAll(() => dropPostgresTable(table));
  it('a missing table is NOT_FOUND at open and is not created; once made, it opens', async () => {
    const url = `${POSTGRES_URL}?table=${table}`;
    expect((await refusal(openStore(url, { create: false }))).reason).toBe('NOT_FOUND');
    const writer = await openStore(url);
    await writer.saveToken(sampleToken('alice'));
    await writer.close();
    const reader = await openStore(url, { create: false });
    expect((await reader.getTokens()).map((t) => t.userName)).toEqual(['alice']);
    await reader.close();
  });
});

describe.skipIf(!redisUp)('openStore(url, { create: false }) on Redis', () => {
  const prefix = `${uniqueName('i14rd')}:`;
  const admin = new Redis(REDIS_URL);
  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(keys);
    admin.disconnect();
  });
  it('a prefix holding no token is NOT_FOUND; once a token is saved, it opens', async () => {
    const url = `${REDIS_URL}/0?prefix=${prefix}`;
    const error = await refusal(openStore(url, { create: false }));
    expect(error.reason).toBe('NOT_FOUND');
    expect(error.message).toContain(prefix);
    const writer = (await openStore(url)) as RedisStore;
    await writer.saveToken(sampleToken('alice'));
    await writer.close();
    const reader = await openStore(url, { create: false });
    expect((await reader.getTokens()).map((t) => t.userName)).toEqual(['alice']);
    await reader.close();
  });
});
