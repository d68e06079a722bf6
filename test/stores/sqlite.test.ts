import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';
import { caughtStoreError } from '../helpers/errors.js';
import { expectNoOverlappingSections } from '../helpers/lock-spans.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `t${++n}.db`);

runTokenStoreConformance({ name: 'SQLiteStore (:memory:)', create: () => new SQLiteStore({ path: ':memory:' }) });
runTokenStoreConformance({
  name: 'SQLiteStore (file)',
  create: () => new SQLiteStore({ path: freshPath() }),
  raw: (store) => {
    const db = new Database((store as SQLiteStore).path, { readonly: true });
    try {
      return JSON.stringify(db.prepare('SELECT * FROM oauthtoken').all());
    } finally {
      db.close();
    }
  },
});

describe('SQLiteStore on disk', () => {
  it("uses Zoho's table and column names, with an index on each lookup column", async () => {
    const path = freshPath();
    const store = new SQLiteStore({ path });
    await store.saveToken(sampleToken('alice', { expiryTime: 1767225600001 }));
    await store.close();
    const db = new Database(path, { readonly: true });
    const columns = db.prepare('PRAGMA table_info(oauthtoken)').all() as { name: string; type: string }[];
    expect(columns.map((c) => c.name)).toEqual([
      'id',
      'user_name',
      'client_id',
      'client_secret',
      'refresh_token',
      'access_token',
      'grant_token',
      'expiry_time',
      'redirect_url',
      'api_domain',
    ]);
    const indexed = (db.prepare('PRAGMA index_list(oauthtoken)').all() as { name: string }[]).flatMap((i) =>
      (db.prepare(`PRAGMA index_info("${i.name}")`).all() as { name: string | null }[]).map((c) => c.name),
    );
    expect(indexed).toEqual(expect.arrayContaining(['id', 'user_name', 'refresh_token', 'access_token', 'grant_token']));
    expect(db.prepare('SELECT id, user_name, expiry_time FROM oauthtoken').get()).toEqual({
      id: '1',
      user_name: 'alice',
      expiry_time: '1767225600001',
    });
    expect((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
    db.close();
  });

  it("reads a table created by the seed article's CustomStoreSQLite", async () => {
    const path = freshPath();
    const db = new Database(path);
    db.exec(
      'CREATE TABLE  oauthtoken (id varchar(10) NOT NULL,user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id))',
    );
    db.prepare('INSERT INTO oauthtoken VALUES (?,?,?,?,?,?,?,?,?,?)').run(
      '9',
      'seed@zylker.com',
      'cid',
      'sec',
      '1000.r',
      '1000.a',
      null,
      '1767225600000',
      null,
      'https://www.zohoapis.com',
    );
    db.close();
    const store = new SQLiteStore({ path });
    expect(await store.findToken({ userName: 'seed@zylker.com' })).toEqual({
      id: '9',
      userName: 'seed@zylker.com',
      clientId: 'cid',
      clientSecret: 'sec',
      refreshToken: '1000.r',
      accessToken: '1000.a',
      expiryTime: 1767225600000,
      apiDomain: 'https://www.zohoapis.com',
    });
    expect((await store.saveToken(sampleToken('new'))).id).toBe('10');
    await store.close();
  });

  it('a new id follows rows another program inserted, and the old (length(id), id) index is dropped', async () => {
    const path = freshPath();
    const seed = new Database(path);
    seed.exec(
      'CREATE TABLE oauthtoken (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), PRIMARY KEY (id))',
    );
    seed.exec('CREATE INDEX "oauthtoken_id_len_idx" ON oauthtoken (length(id), id)');
    seed.close();
    const store = new SQLiteStore({ path });
    const other = new Database(path);
    try {
      other
        .prepare("INSERT INTO oauthtoken (id, user_name, access_token) VALUES ('9', 'sql', '1000.a.sql'), ('abc', 'text', '1000.a.text')")
        .run();
      expect((await store.saveToken(sampleToken('first'))).id).toBe('10');
      other.prepare("INSERT INTO oauthtoken (id, user_name, access_token) VALUES ('99', 'sql2', '1000.a.sql2')").run();
      expect((await store.saveToken(sampleToken('second'))).id).toBe('100');
      const indexes = (other.prepare('PRAGMA index_list(oauthtoken)').all() as { name: string }[]).map((i) => i.name);
      expect(indexes).toContain('oauthtoken_id_num_idx');
      expect(indexes).not.toContain('oauthtoken_id_len_idx');
    } finally {
      other.close();
      await store.close();
    }
  });

  it('a corrupt file is an error naming the path, and the file is left alone', () => {
    const path = freshPath();
    writeFileSync(path, 'this is not a database, just text '.repeat(200));
    const before = readFileSync(path);
    let caught: unknown;
    try {
      new SQLiteStore({ path });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TokenStoreError);
    expect((caught as TokenStoreError).reason).toBe('CORRUPT');
    expect((caught as Error).message).toContain(path);
    expect(readFileSync(path)).toEqual(before);
  });

  it('an unwritable location is an error naming the path', () => {
    const path = join(dir, 'no-such-dir', 'x.db');
    expect(() => new SQLiteStore({ path })).toThrow(path);
  });

  it('a path that is a folder is an error naming the path', () => {
    expect(() => new SQLiteStore({ path: dir })).toThrow(dir);
  });

  it('a bad table name is rejected before any SQL runs', () => {
    expect(() => new SQLiteStore({ path: ':memory:', table: 'oauthtoken; DROP TABLE x' })).toThrow(/Invalid table name/);
  });

  it("withLock keeps fn's result when the release fails (SQLITE_BUSY); the lock then expires by its ttl", async () => {
    const path = freshPath();
    const store = new SQLiteStore({ path, busyTimeoutMs: 20 });
    await store.saveToken(sampleToken('alice'));
    const other = new Database(path);
    try {
      // The first lock's ttl starts after this, so the second can be taken 300 ms after it at the earliest.
      const beforeFirst = Date.now();
      const result = await store.withLock('busy-release', 300, async () => {
        // Another connection takes the write lock, so the release cannot write.
        other.exec('BEGIN IMMEDIATE');
        return 'done';
      });
      expect(result).toBe('done');
      other.exec('ROLLBACK');
      expect(await store.withLock('busy-release', 300, async () => 'again')).toBe('again');
      expect(Date.now() - beforeFirst).toBeGreaterThanOrEqual(300);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await store.close();
    }
  });

  it('a store failure while taking a lock is UNAVAILABLE at once, not a LOCK_TIMEOUT after the wait', async () => {
    const path = freshPath();
    const store = new SQLiteStore({ path });
    await store.saveToken(sampleToken('alice'));
    const other = new Database(path);
    other.exec('DROP TABLE ztoken_locks'); // someone broke the lock table
    other.close();
    let ran = false;
    const started = Date.now();
    const error = await caughtStoreError(
      store.withLock('broken', 5_000, async () => {
        ran = true;
      }),
    );
    expect(error.reason).toBe('UNAVAILABLE');
    expect(error.message).toContain('ztoken_locks');
    expect(error.message).toContain(path);
    expect(ran).toBe(false);
    expect(Date.now() - started).toBeLessThan(4_000); // LOCK_TIMEOUT would come after 10 s
    expect((await store.findToken({ userName: 'alice' }))?.userName).toBe('alice');
    await store.close();
  });

  it('use after close fails clearly', async () => {
    const store = new SQLiteStore({ path: ':memory:' });
    await store.close();
    await expect(store.getTokens()).rejects.toMatchObject({ reason: 'CLOSED' });
  });
});

describe('SQLiteStore shared by processes', () => {
  const worker = join(import.meta.dirname, 'helpers', 'store-writer.ts');
  // `node --import tsx` (not the tsx wrapper) so that SIGKILL reaches the writer itself.
  const node = (args: string[]) => spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

  function runWriter(path: string, mode: string, workerId: number, count: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = node([worker, `sqlite:${path}`, mode, String(workerId), String(count)]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer ${workerId} exited ${code}: ${err}`))));
    });
  }

  it('four processes saving distinct and identical users at once lose nothing and duplicate nothing', async () => {
    const path = freshPath();
    new SQLiteStore({ path }).close();
    await Promise.all([0, 1, 2, 3].map((w) => runWriter(path, 'save', w, 40)));
    const store = new SQLiteStore({ path });
    const all = await store.getTokens();
    // each worker saved 40 users of its own and the same 10 shared users
    const own = all.filter((t) => t.userName?.startsWith('w'));
    const shared = all.filter((t) => t.userName?.startsWith('shared'));
    expect(own).toHaveLength(4 * 40);
    expect(shared).toHaveLength(10);
    expect(new Set(all.map((t) => t.id)).size).toBe(all.length);
    await store.close();
  }, 60_000);

  it('withLock excludes other processes', async () => {
    const path = freshPath();
    new SQLiteStore({ path }).close();
    const outputs = await Promise.all([0, 1, 2].map((w) => runWriter(path, 'lock', w, 15)));
    expectNoOverlappingSections(outputs, 45);
  }, 60_000);

  it('a process killed while holding the lock delays others by at most the ttl', async () => {
    const path = freshPath();
    new SQLiteStore({ path }).close();
    const child = node([worker, `sqlite:${path}`, 'hold', '0', '1', '1500']);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    const store = new SQLiteStore({ path });
    const started = Date.now();
    await store.withLock('fleet', 1_000, async () => undefined);
    const waited = Date.now() - started;
    expect(waited).toBeLessThan(1_500 + 500);
    await store.close();
  }, 30_000);
});
