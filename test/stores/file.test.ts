import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import { FileStore, keyLockPath, writeLockPath } from '../../src/stores/file.js';
import { HOST_ID } from '../../src/stores/file/process-identity.js';
import { CLIENT, runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';
import type { OAuthToken } from '../../src/token.js';
import { copyFixture, FIXTURES, FIXTURES_DIR, fixturesAvailable } from './helpers/file-fixtures.js';

const HEADER = 'id,user_mail,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `t${++n}.txt`);
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

async function storeError(promise: Promise<unknown>): Promise<TokenStoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenStoreError);
    return error as TokenStoreError;
  }
  throw new Error('expected a TokenStoreError');
}

runTokenStoreConformance({
  name: 'FileStore',
  create: () => new FileStore({ path: freshPath() }),
  raw: (store) => readFileSync((store as FileStore).path, 'utf8'),
  refusesCommaValues: true,
});

describe.skipIf(!fixturesAvailable)("FileStore reads the official SDKs' files", () => {
  const originals = new Map<string, string>();
  const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
  beforeAll(() => {
    for (const fixture of Object.values(FIXTURES)) originals.set(fixture.file, digest(join(FIXTURES_DIR, fixture.file)));
  });
  afterAll(() => {
    // The shared originals are never handed to a store, and no test may have touched them.
    for (const [file, hash] of originals) expect(digest(join(FIXTURES_DIR, file)), file).toBe(hash);
  });

  for (const [label, fixture] of Object.entries(FIXTURES)) {
    it(`reads every field of every row of the ${label} fixture, and reading leaves the file as it was`, async () => {
      const path = copyFixture(fixture, mkdtempSync(join(dir, `${label}-`)));
      const before = readFileSync(path);
      const mtimeBefore = statSync(path).mtimeMs;
      const store = new FileStore({ path });
      expect(await store.getTokens()).toEqual(fixture.tokens);
      for (const token of fixture.tokens) {
        expect(await store.findTokenById(token.id)).toEqual(token);
        if (token.userName) expect(await store.findToken({ userName: token.userName })).toEqual(token);
        expect(await store.findToken({ ...CLIENT, clientId: token.clientId!, refreshToken: token.refreshToken })).toEqual(token);
        if (token.accessToken) expect(await store.findToken({ accessToken: token.accessToken })).toEqual(token);
      }
      await store.close();
      expect(readFileSync(path)).toEqual(before);
      expect(statSync(path).mtimeMs).toBe(mtimeBefore);
    });
  }

  it('keeps a Python SDK file in the Python layout: its header, CRLF, csv quoting and final line end', async () => {
    const path = copyFixture(FIXTURES.python, dir, 'python-rewrite.txt');
    const original = readFileSync(path, 'utf8');
    const store = new FileStore({ path });
    const saved = await store.saveToken({ ...CLIENT, refreshToken: '1000.new.refresh', apiDomain: 'https://www.zohoapis.com' });
    expect(saved.id).toBe('4');
    expect(store.layout).toBe('python');
    expect(readFileSync(path, 'utf8')).toBe(
      `${original}4,,${CLIENT.clientId},${CLIENT.clientSecret},1000.new.refresh,,,,,https://www.zohoapis.com\r\n`,
    );
    expect(await new FileStore({ path }).getTokens()).toEqual([...FIXTURES.python.tokens, saved]);
  });

  it('keeps the 9-column (v2) layout when it writes: no api_domain column, which stays in memory', async () => {
    const path = copyFixture(FIXTURES.legacy, dir, 'legacy-upgrade.txt');
    const store = new FileStore({ path });
    await store.saveToken({ userName: 'erin@zylker.com', accessToken: '1000.access.renewed', expiryTime: 1767229200005 });
    expect(store.layout).toBe('v2');
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toEqual([HEADER.replace(',api_domain', ''), '1,erin@zylker.com,,,,1000.access.renewed,,1767229200005,']);
    const legacyRow = FIXTURES.legacy.tokens[0]!;
    const other = copyFixture(FIXTURES.legacy, dir, 'legacy-upgrade-2.txt');
    const second = new FileStore({ path: other });
    const added = await second.saveToken(sampleToken('new@zylker.com'));
    expect(readFileSync(other, 'utf8').split('\n')).toEqual([
      HEADER.replace(',api_domain', ''),
      `1,erin@zylker.com,${legacyRow.clientId},${legacyRow.clientSecret},${legacyRow.refreshToken},${legacyRow.accessToken},,1767225600005,https://app.example.com/callback`,
      `2,new@zylker.com,${CLIENT.clientId},${CLIENT.clientSecret},1000.refresh.new@zylker.com.aaaabbbbccccdddd,1000.access.new@zylker.com.eeeeffff00001111,,1767225600000,https://app.example.com/callback`,
    ]);
    expect(await second.getTokens()).toEqual([legacyRow, added]);
    expect(added.apiDomain).toBe('https://www.zohoapis.com');
    const { apiDomain: _dropped, ...onDisk } = added;
    expect(await new FileStore({ path: other }).getTokens()).toEqual([legacyRow, onDisk]);
  });
});

describe('FileStore file layout', () => {
  it('writes the TypeScript SDK layout byte for byte: header, \\n, empty cells for absent fields, no final line end', async () => {
    const path = freshPath();
    const store = new FileStore({ path });
    await store.saveToken({
      userName: 'a@zylker.com',
      clientId: 'cid',
      clientSecret: 'sec',
      refreshToken: '1000.r',
      accessToken: '1000.a',
      expiryTime: 1767225600000,
      redirectUrl: 'https://app.example.com/cb',
      apiDomain: 'https://www.zohoapis.com',
    });
    await store.saveToken({ clientId: 'cid', clientSecret: 'sec', grantToken: '1000.g' });
    expect(readFileSync(path, 'utf8')).toBe(
      `${HEADER}\n1,a@zylker.com,cid,sec,1000.r,1000.a,,1767225600000,https://app.example.com/cb,https://www.zohoapis.com\n2,,cid,sec,,,1000.g,,,`,
    );
    await store.deleteToken('1');
    expect(readFileSync(path, 'utf8')).toBe(`${HEADER}\n2,,cid,sec,,,1000.g,,,`);
    await store.deleteTokens();
    expect(readFileSync(path, 'utf8')).toBe(HEADER);
  });

  it('creates nothing until it writes; a new file without tokens has just the header', async () => {
    const path = freshPath();
    const store = new FileStore({ path });
    expect(await store.getTokens()).toEqual([]);
    expect(await store.findToken({ userName: 'x' })).toBeNull();
    await store.deleteToken('1');
    expect(existsSync(path)).toBe(false);
    await store.deleteTokens();
    expect(readFileSync(path, 'utf8')).toBe(HEADER);
  });

  it('refuses, naming field and layout, values a comma split would break; the python layout quotes them and reads them back', async () => {
    const token: OAuthToken = {
      userName: 'Doe, "Jo"',
      ...CLIENT,
      refreshToken: '1000.r\r\nwith lines\n',
      accessToken: '1000.plain',
      redirectUrl: 'https://app.example.com/cb?a=1,b="2"',
      apiDomain: ' spaced ',
    };
    const tsPath = freshPath();
    const ts = new FileStore({ path: tsPath });
    await ts.saveToken(sampleToken('kept'));
    const before = readFileSync(tsPath, 'utf8');
    const error = await storeError(ts.saveToken(token));
    expect(error.reason).toBe('INVALID_TOKEN');
    expect(error.field).toBe('userName');
    expect(error.message).toMatch(/userName contains a comma, which the ts-8 token file layout cannot hold/);
    expect(readFileSync(tsPath, 'utf8')).toBe(before);
    expect(await storeError(ts.saveToken({ ...sampleToken('x'), refreshToken: 'a\nb' }))).toMatchObject({ field: 'refreshToken' });
    expect(await storeError(ts.saveToken({ ...sampleToken('x'), apiDomain: 'say "hi"' }))).toMatchObject({ field: 'apiDomain' });
    expect(readFileSync(tsPath, 'utf8')).toBe(before);

    const path = freshPath();
    const saved = await new FileStore({ path, layout: 'python' }).saveToken(token);
    expect(readFileSync(path, 'utf8')).toBe(
      `${HEADER.replace('user_mail', 'user_name').replace('redirect_url', 'redirect_uri')}\r\n1,"Doe, ""Jo""",${CLIENT.clientId},${CLIENT.clientSecret},"1000.r\r\nwith lines\n",1000.plain,,,"https://app.example.com/cb?a=1,b=""2""", spaced \r\n`,
    );
    const reader = new FileStore({ path });
    expect(await reader.getTokens()).toEqual([saved]);
    expect(await reader.findToken({ userName: 'Doe, "Jo"' })).toEqual({ id: '1', ...token });
  });

  it('rewrites a quoted value a file already holds as it was, while it saves other rows', async () => {
    const path = freshPath();
    writeFileSync(path, `${HEADER}\n1,"Doe, Jo",c,s,r1,,,,,\n2,b,c,s,r2,,,,,`);
    const store = new FileStore({ path });
    await store.saveToken({ userName: 'b', clientId: 'c', clientSecret: 's', refreshToken: 'r2', accessToken: 'a2' });
    expect(readFileSync(path, 'utf8')).toBe(`${HEADER}\n1,"Doe, Jo",c,s,r1,,,,,\n2,b,c,s,r2,a2,,,,`);
  });

  it('reads quoted cells, CRLF inside quotes, blank lines and a byte order mark as the Python csv module writes them', async () => {
    const path = freshPath();
    writeFileSync(
      path,
      '\ufeffid,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_uri,api_domain\r\n' +
        '\r\n' +
        '7,"say ""hi""",c,s,"multi\r\nline",,,"1767225600000",,\r\n' +
        '8,plain,c,s,r8,,,,,https://www.zohoapis.eu\r\n\r\n',
    );
    expect(await new FileStore({ path }).getTokens()).toEqual([
      { id: '7', userName: 'say "hi"', clientId: 'c', clientSecret: 's', refreshToken: 'multi\r\nline', expiryTime: 1767225600000 },
      { id: '8', userName: 'plain', clientId: 'c', clientSecret: 's', refreshToken: 'r8', apiDomain: 'https://www.zohoapis.eu' },
    ]);
  });

  it('gives new rows the largest numeric id + 1 ("9" < "10"), ignoring other ids', async () => {
    const path = freshPath();
    writeFileSync(path, `${HEADER}\n9,a,c,s,r9,,,,,\n10,b,c,s,r10,,,,,\nabc,d,c,s,rabc,,,,,\n2,e,c,s,r2,,,,,`);
    const store = new FileStore({ path });
    expect((await store.saveToken(sampleToken('new'))).id).toBe('11');
    expect((await store.getTokens()).map((t) => t.id)).toEqual(['2', '9', '10', '11', 'abc']);
    // File order is kept: updates in place, inserts at the end.
    expect(
      readFileSync(path, 'utf8')
        .split('\n')
        .map((l) => l.split(',')[0]),
    ).toEqual(['id', '9', '10', 'abc', '2', '11']);
  });
});

describe('FileStore file permissions', () => {
  it('creates the token file with mode 0600 and keeps it 0600', async () => {
    const path = freshPath();
    const store = new FileStore({ path });
    await store.saveToken(sampleToken('a'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await store.saveToken(sampleToken('b'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('an existing world-readable file becomes 0600 when rewritten', async () => {
    const path = freshPath();
    writeFileSync(path, `${HEADER}\n1,a,c,s,r,,,,,`, { mode: 0o644 });
    chmodSync(path, 0o644);
    await new FileStore({ path }).saveToken(sampleToken('b'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('leaves no temp or lock files behind after writes and locks', async () => {
    const folder = mkdtempSync(join(dir, 'clean-'));
    const path = join(folder, 'sdk_tokens.txt');
    const store = new FileStore({ path });
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.saveToken(sampleToken(`u${i}`))));
    let seen = false;
    await store.withLock('refresh:1', 5_000, async () => {
      seen = existsSync(keyLockPath(path, 'refresh:1'));
    });
    expect(seen).toBe(true);
    await store.deleteToken('3');
    await store.deleteTokens();
    expect(readdirSync(folder)).toEqual(['sdk_tokens.txt']);
  });
});

describe('FileStore and files it cannot parse', () => {
  const secret = '1000.secretrefresh.0123456789abcdef';
  const cases: [string, string, number, RegExp][] = [
    ['a row with too few columns', `${HEADER}\n1,a,c,s,${secret},,,,,\n2,b,c,s,${secret}x,,,`, 3, /3 columns|8 columns/],
    ['an unterminated quote', `${HEADER}\n1,a,c,s,r,,,,,\n2,"b,c,s,${secret},,,,,`, 3, /never closed/],
    ['a non-numeric expiry_time', `${HEADER}\n1,a,c,s,${secret},,,soon,,`, 2, /expiry_time/],
    ['text after a closing quote', `${HEADER}\n1,"a"b,c,s,${secret},,,,,`, 2, /closing quote/],
    ['a header of the wrong width', `id,user_mail,client_id\n1,a,c`, 1, /header has 3 columns/],
    ['a file that is not a token file', `name,value,x,y,z,a,b,c,d,e\n1,2,3,4,5,6,7,8,9,10`, 1, /not a Zoho token file/],
    ['a duplicated id', `${HEADER}\n1,a,c,s,r1,,,,,\n1,b,c,s,${secret},,,,,`, 3, /already used on line 2/],
    ['a row without an id', `${HEADER}\n1,a,c,s,r1,,,,,\n,b,c,s,${secret},,,,,`, 3, /without an id/],
  ];
  for (const [label, content, line, problem] of cases) {
    it(`${label}: CORRUPT naming file and line ${line}; saves fail and the file is untouched`, async () => {
      const path = freshPath();
      writeFileSync(path, content, { mode: 0o600 });
      const mtime = statSync(path).mtimeMs;
      const store = new FileStore({ path });
      for (const call of [
        store.getTokens(),
        store.findToken({ userName: 'a' }),
        store.saveToken(sampleToken('z')),
        store.deleteTokens(),
        store.deleteToken('1'),
      ]) {
        const error = await storeError(call);
        expect(error.reason).toBe('CORRUPT');
        expect(error.message).toContain(path);
        expect(error.message).toContain(`line ${line}`);
        expect(error.message).toMatch(problem);
        expect(error.message).not.toContain(secret);
      }
      expect(readFileSync(path, 'utf8')).toBe(content);
      expect(statSync(path).mtimeMs).toBe(mtime);
    });
  }

  it('bytes that are not UTF-8: CORRUPT naming the line, file untouched', async () => {
    const path = freshPath();
    const content = Buffer.concat([Buffer.from(`${HEADER}\n1,a,c,s,r,,,,,\n2,`), Buffer.from([0xff, 0xfe]), Buffer.from(',c,s,r2,,,,,')]);
    writeFileSync(path, content);
    const error = await storeError(new FileStore({ path }).saveToken(sampleToken('z')));
    expect(error.reason).toBe('CORRUPT');
    expect(error.message).toContain(`${path}, line 3`);
    expect(readFileSync(path)).toEqual(content);
  });

  it('works again once the file is repaired', async () => {
    const path = freshPath();
    writeFileSync(path, `${HEADER}\n1,a,c,s,r,,,never,,`);
    const store = new FileStore({ path });
    expect((await storeError(store.getTokens())).reason).toBe('CORRUPT');
    writeFileSync(path, `${HEADER}\n1,a,c,s,r,,,1767225600000,,`);
    expect(await store.findToken({ userName: 'a' })).toEqual({
      id: '1',
      userName: 'a',
      clientId: 'c',
      clientSecret: 's',
      refreshToken: 'r',
      expiryTime: 1767225600000,
    });
    expect((await store.saveToken(sampleToken('b'))).id).toBe('2');
  });
});

describe('FileStore index cache', () => {
  it('does not reread the file while it is unchanged, nor after its own write', async () => {
    const path = freshPath();
    const store = new FileStore({ path });
    for (let i = 0; i < 20; i++) await store.saveToken(sampleToken(`user${i}`));
    const afterWrites = store.fileActivity();
    expect(afterWrites).toMatchObject({ parses: 0, writes: 20 }); // the file did not exist: nothing to parse
    expect((await store.findToken({ userName: 'user7' }))?.id).toBe('8');
    expect(store.fileActivity().parses).toBe(0); // our own write is never parsed back
    await sleep(60); // past the racy window of the last write (file-stamp.ts)
    await store.findToken({ userName: 'user1' });
    const settled = store.fileActivity();
    for (let i = 0; i < 1000; i++) await store.findToken({ ...CLIENT, refreshToken: sampleToken(`user${i % 20}`).refreshToken });
    await store.getTokens();
    await store.findTokenById('3');
    expect(store.fileActivity()).toEqual(settled);
  });

  it("sees another instance's change, including one of the same size", async () => {
    const path = freshPath();
    const a = new FileStore({ path });
    const b = new FileStore({ path });
    await a.saveToken(sampleToken('alice', { accessToken: '1000.access.AAAA' }));
    expect((await b.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.AAAA');
    const size = statSync(path).size;
    await a.saveToken(sampleToken('alice', { accessToken: '1000.access.BBBB' }));
    expect(statSync(path).size).toBe(size);
    expect((await b.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.BBBB');
    await sleep(60);
    await a.saveToken(sampleToken('alice', { accessToken: '1000.access.CCCC' }));
    expect((await b.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.CCCC');
    expect((await b.saveToken(sampleToken('bob'))).id).toBe('2');
    expect((await a.findToken({ userName: 'bob' }))?.id).toBe('2');
  });

  it('sees a same-size rewrite in place (as the official SDK writes), right away and later', async () => {
    const path = freshPath();
    const store = new FileStore({ path });
    const line = (access: string) => `${HEADER}\n1,alice,c,s,r,${access},,1767225600000,,`;
    writeFileSync(path, line('AAAA'));
    expect((await store.findToken({ accessToken: 'AAAA' }))?.id).toBe('1');
    writeFileSync(path, line('BBBB')); // same inode, same size, maybe the same timestamp tick
    expect(await store.findToken({ accessToken: 'AAAA' })).toBeNull();
    expect((await store.findToken({ accessToken: 'BBBB' }))?.id).toBe('1');
    await sleep(60);
    expect((await store.findToken({ accessToken: 'BBBB' }))?.id).toBe('1');
    const settledMtime = statSync(path).mtime;
    writeFileSync(path, line('CCCC'));
    utimesSync(path, settledMtime, settledMtime); // even with the old mtime put back, ctime tells
    expect((await store.findToken({ accessToken: 'CCCC' }))?.id).toBe('1');
  });

  it('sees the file deleted and created again', async () => {
    const path = freshPath();
    const store = new FileStore({ path });
    await store.saveToken(sampleToken('a'));
    rmSync(path);
    expect(await store.getTokens()).toEqual([]);
    writeFileSync(path, `${HEADER}\n5,b,c,s,r,,,,,`);
    expect((await store.findTokenById('5'))?.userName).toBe('b');
  });
});

describe('FileStore locks', () => {
  it('takes over at once a write lock left by a dead process of this host', async () => {
    const path = freshPath();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const record = { owner: 'ghost', pid: Number(dead.stdout), host: HOST_ID, expiresAt: Date.now() + 60_000 };
    writeFileSync(writeLockPath(path), JSON.stringify(record));
    const store = new FileStore({ path, lockWaitMs: 2_000 });
    const started = Date.now();
    await store.saveToken(sampleToken('a'));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(existsSync(writeLockPath(path))).toBe(false);
  });

  it('a lock held on another machine with the same hostname and PID namespace is not taken over early', async () => {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    expect(HOST_ID).toContain(bootId);
    const path = freshPath();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    // Same hostname and PID namespace inode (every machine's initial one is alike), another boot.
    const twin = HOST_ID.replace(bootId, '00000000-0000-4000-8000-000000000000');
    const record = { owner: 'twin', pid: Number(dead.stdout), host: twin, expiresAt: Date.now() + 400 };
    writeFileSync(writeLockPath(path), JSON.stringify(record));
    const started = Date.now();
    await new FileStore({ path }).saveToken(sampleToken('a'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('waits for the expiry of a lock held on another host, then takes it', async () => {
    const path = freshPath();
    const record = { owner: 'elsewhere', pid: 1, host: 'other-host#pid:[1]', expiresAt: Date.now() + 400 };
    writeFileSync(writeLockPath(path), JSON.stringify(record));
    const store = new FileStore({ path });
    const started = Date.now();
    await store.saveToken(sampleToken('a'));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(2_000);
  });

  it('fails with LOCK_TIMEOUT naming the file when the lock stays held, and changes nothing', async () => {
    const path = freshPath();
    await new FileStore({ path }).saveToken(sampleToken('a'));
    const before = readFileSync(path, 'utf8');
    const record = { owner: 'elsewhere', pid: 1, host: 'other-host#pid:[1]', expiresAt: Date.now() + 60_000 };
    writeFileSync(writeLockPath(path), JSON.stringify(record));
    const error = await storeError(new FileStore({ path, lockWaitMs: 300 }).saveToken(sampleToken('b')));
    expect(error.reason).toBe('LOCK_TIMEOUT');
    expect(error.message).toContain(path);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('withLock uses one lock file per key beside the token file', async () => {
    const path = freshPath();
    const store = new FileStore({ path });
    const order: string[] = [];
    await Promise.all([
      store.withLock('a', 5_000, async () => {
        order.push('a1');
        expect(existsSync(keyLockPath(path, 'a'))).toBe(true);
        await sleep(50);
        order.push('a2');
      }),
      store.withLock('b', 5_000, async () => {
        order.push('b1'); // a different key does not wait for "a"
      }),
    ]);
    expect(order).toEqual(['a1', 'b1', 'a2']);
    expect(existsSync(keyLockPath(path, 'a'))).toBe(false);
  });
});

describe('FileStore options', () => {
  it('defaults to sdk_tokens.txt in the working folder', () => {
    expect(new FileStore().path).toBe(join(process.cwd(), 'sdk_tokens.txt'));
  });

  it('rejects a folder, a missing folder and bad lock times, naming what is wrong', () => {
    expect(() => new FileStore({ path: dir })).toThrow(new RegExp(`${dir} is a folder`));
    const missing = join(dir, 'no-such-folder', 'sdk_tokens.txt');
    expect(() => new FileStore({ path: missing })).toThrow(join(dir, 'no-such-folder'));
    expect(() => new FileStore({ path: '' })).toThrow(/Invalid FileStore path/);
    expect(() => new FileStore({ path: freshPath(), lockStaleMs: 0 })).toThrow(/lockStaleMs/);
    expect(() => new FileStore({ path: freshPath(), lockWaitMs: Number.NaN })).toThrow(/lockWaitMs/);
  });

  it('a folder it cannot write to fails naming the file, and what was stored is intact', async (ctx) => {
    const folder = join(dir, 'readonly');
    mkdirSync(folder);
    const path = join(folder, 'sdk_tokens.txt');
    const store = new FileStore({ path });
    const alice = await store.saveToken(sampleToken('alice'));
    const before = readFileSync(path, 'utf8');
    // root writes anywhere unless the folder is immutable
    const lock = (on: boolean): boolean => {
      if (process.getuid?.() === 0) return spawnSync('chattr', [on ? '+i' : '-i', folder]).status === 0;
      chmodSync(folder, on ? 0o500 : 0o700);
      return true;
    };
    if (!lock(true)) return ctx.skip();
    try {
      const error = await storeError(store.saveToken(sampleToken('bob')));
      expect(['WRITE_FAILED', 'UNAVAILABLE']).toContain(error.reason);
      expect(error.message).toContain(path);
    } finally {
      lock(false);
    }
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(await store.getTokens()).toEqual([alice]);
  });

  it('a write that outlives lockStaleMs is abandoned before the rename, and the store forgets it', async () => {
    const path = freshPath();
    // 5,000 rows to parse under the lock: far more than the 1 ms the lock may be held.
    const rows = Array.from({ length: 5_000 }, (_, i) => `${i + 1},user${i},c,s,1000.refresh.${i},1000.access.${i},,1767225600000,,`);
    const before = [HEADER, ...rows].join('\n');
    writeFileSync(path, before);
    const store = new FileStore({ path, lockStaleMs: 1, lockWaitMs: 5_000 });
    const error = await storeError(store.saveToken(sampleToken('late')));
    expect(error.reason).toBe('LOCK_TIMEOUT');
    expect(error.message).toContain(path);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(await store.findToken({ userName: 'late' })).toBeNull();
    expect(await store.getTokens()).toHaveLength(5_000);
  });
});
