// FileStore's token file layouts (src/stores/file/layouts.ts): detection from the header,
// byte-exact writing of each, the layout kept across writes, ids where the file has none or
// not ours, columns a layout lacks kept in memory, and the conformance kit in each layout.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import { FileStore } from '../../src/stores/file.js';
import { FILE_LAYOUT_NAMES, FILE_LAYOUTS, type FileLayoutName } from '../../src/stores/file/layouts.js';
import { openStore } from '../../src/stores/url.js';
import { CLIENT, runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';
import type { OAuthToken } from '../../src/token.js';
import { copyFixture, FIXTURES, fixturesAvailable } from './helpers/file-fixtures.js';
import { SDK_FILE_FAMILIES } from './helpers/sdk-file-families.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-file-layouts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `l${++n}.txt`);
const headerOf = (layout: FileLayoutName) => FILE_LAYOUTS[layout].header.join(',');
const ts8Sdk = SDK_FILE_FAMILIES[0]!;
const ts8Available = await ts8Sdk.available();

async function storeError(promise: Promise<unknown>): Promise<TokenStoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenStoreError);
    return error as TokenStoreError;
  }
  throw new Error('expected a TokenStoreError');
}

// Every layout an id column holds ids in: the whole kit. The comma-split layouts refuse values
// with a comma, quote or line break by design. zcrmsdk has no id column (ids are row numbers,
// and a caller's id is not kept), so the kit's id tests do not apply to it: its own tests are below.
for (const layout of ['nodejs-8', 'v2', 'python'] as const) {
  runTokenStoreConformance({
    name: `FileStore (layout ${layout})`,
    create: () => new FileStore({ path: freshPath(), layout }),
    raw: (store) => readFileSync((store as FileStore).path, 'utf8'),
    refusesCommaValues: FILE_LAYOUTS[layout].plainSplit,
  });
}

const FULL: OAuthToken = {
  userName: 'a@zylker.com',
  clientId: 'cid',
  clientSecret: 'sec',
  refreshToken: '1000.r',
  accessToken: '1000.a',
  expiryTime: 1767225600000,
  redirectUrl: 'https://app.example.com/cb',
  apiDomain: 'https://www.zohoapis.com',
};
const GRANT_ONLY: OAuthToken = { userName: 'b@zylker.com', clientId: 'cid', clientSecret: 'sec', grantToken: '1000.g' };

describe('FileStore writes each layout byte for byte', () => {
  const expected: Record<FileLayoutName, string> = {
    'ts-8': `${headerOf('ts-8')}\n1,a@zylker.com,cid,sec,1000.r,1000.a,,1767225600000,https://app.example.com/cb,https://www.zohoapis.com\n2,b@zylker.com,cid,sec,,,1000.g,,,`,
    'nodejs-8': `${headerOf('nodejs-8')}\n1,a@zylker.com,cid,sec,1000.r,1000.a,,1767225600000,https://app.example.com/cb,https://www.zohoapis.com\n2,b@zylker.com,cid,sec,,,1000.g,,,`,
    v2: `${headerOf('v2')}\n1,a@zylker.com,cid,sec,1000.r,1000.a,,1767225600000,https://app.example.com/cb\n2,b@zylker.com,cid,sec,,,1000.g,,`,
    zcrmsdk: `${headerOf('zcrmsdk')}\na@zylker.com,cid,1000.r,1000.a,,1767225600000\nb@zylker.com,cid,,,1000.g,`,
    python: `${headerOf('python')}\r\n1,a@zylker.com,cid,sec,1000.r,1000.a,,1767225600000,https://app.example.com/cb,https://www.zohoapis.com\r\n2,b@zylker.com,cid,sec,,,1000.g,,,\r\n`,
  };
  for (const layout of FILE_LAYOUT_NAMES) {
    it(`${layout}: header, rows, line ends; the layout is kept by a new store; deleteTokens leaves the header`, async () => {
      const path = freshPath();
      const store = new FileStore({ path, layout });
      expect(store.layout).toBe(layout);
      await store.saveToken(FULL);
      await store.saveToken(GRANT_ONLY);
      expect(readFileSync(path, 'utf8')).toBe(expected[layout]);
      // A store opened with another layout (or the default) keeps the file's.
      const other = new FileStore({ path, layout: layout === 'python' ? 'ts-8' : 'python' });
      await other.saveToken({ ...GRANT_ONLY, accessToken: '1000.a2' });
      expect(other.layout).toBe(layout);
      expect(readFileSync(path, 'utf8').split(FILE_LAYOUTS[layout].eol)[0]).toBe(headerOf(layout));
      await other.deleteTokens();
      expect(readFileSync(path, 'utf8')).toBe(headerOf(layout) + (layout === 'python' ? '\r\n' : ''));
    });
  }

  it('detects each header, whatever the case and spacing of its names', async () => {
    for (const layout of FILE_LAYOUT_NAMES) {
      const path = freshPath();
      writeFileSync(path, ` ${headerOf(layout).toUpperCase().replaceAll(',', ' , ')}`);
      const store = new FileStore({ path });
      expect(await store.getTokens()).toEqual([]);
      expect(store.layout).toBe(layout);
    }
  });

  it('an empty file or a missing one gets the layout option’s header at the first write', async () => {
    const path = freshPath();
    writeFileSync(path, '');
    await new FileStore({ path, layout: 'zcrmsdk' }).deleteTokens();
    expect(readFileSync(path, 'utf8')).toBe(headerOf('zcrmsdk'));
  });

  it('refuses an unknown layout option, and a header of no layout, naming what it expects', async () => {
    expect(() => new FileStore({ path: freshPath(), layout: 'ts-9' as FileLayoutName })).toThrow(
      /Invalid FileStore option layout "ts-9": expected one of ts-8, nodejs-8, v2, zcrmsdk, python/,
    );
    const path = freshPath();
    writeFileSync(path, 'user_mail,client_id,refresh_token,access_token,grant_token\nx,c,r,a,g');
    const error = await storeError(new FileStore({ path }).getTokens());
    expect(error.reason).toBe('CORRUPT');
    expect(error.message).toMatch(/line 1: the header has 5 columns; expected one of: .*6 columns \(zcrmsdk: user_mail,client_id/);
  });

  it('file: URLs take ?layout=, checked as the option', async () => {
    const path = freshPath();
    const store = await openStore(`file:${path}?layout=v2`);
    await store.saveToken(FULL);
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(headerOf('v2'));
    await store.close();
    await expect(openStore(`file:${freshPath()}?layout=v3`)).rejects.toThrow(/layout "v3": expected one of/);
    await expect(openStore(`file:${freshPath()}?layot=v2`)).rejects.toThrow(/did you mean \?layout=/);
  });
});

describe('values a comma split would break', () => {
  for (const layout of ['ts-8', 'nodejs-8', 'v2', 'zcrmsdk'] as const) {
    it(`${layout}: refused, naming field and layout; nothing written`, async () => {
      const path = freshPath();
      const store = new FileStore({ path, layout });
      await store.saveToken(FULL);
      const before = readFileSync(path, 'utf8');
      for (const [field, value] of [
        ['userName', 'Doe, Jo'],
        ['accessToken', 'say "hi"'],
        ['clientId', 'a\nb'],
        ['refreshToken', 'a\r'],
      ] as const) {
        const error = await storeError(store.saveToken({ ...GRANT_ONLY, [field]: value }));
        expect(error.reason).toBe('INVALID_TOKEN');
        expect(error.field).toBe(field);
        expect(error.message).toContain(`the ${layout} token file layout cannot hold`);
        expect(error.message).not.toContain(value);
      }
      expect(readFileSync(path, 'utf8')).toBe(before);
      expect(await new FileStore({ path }).getTokens()).toHaveLength(1);
    });
  }

  it('zcrmsdk: a column it lacks may hold them (kept in memory, never written)', async () => {
    const store = new FileStore({ path: freshPath(), layout: 'zcrmsdk' });
    const saved = await store.saveToken({ ...FULL, clientSecret: 'odd, "secret"', redirectUrl: 'https://x/?a=1,b=2' });
    expect(await store.findTokenById(saved.id)).toEqual(saved);
  });
});

describe('columns a layout lacks are kept in memory, and written where a layout has them', () => {
  it('v2 keeps api_domain in memory across another process’s writes; zcrmsdk keeps client secret, redirect URL and api domain', async () => {
    for (const layout of ['v2', 'zcrmsdk'] as const) {
      const path = freshPath();
      const ours = new FileStore({ path, layout });
      const saved = await ours.saveToken(FULL);
      expect(readFileSync(path, 'utf8')).not.toContain('zohoapis');
      // Another process (our own store, which reads only the file) refreshes the token.
      const other = new FileStore({ path });
      const { apiDomain: _a, ...onDisk } = layout === 'v2' ? FULL : { ...FULL, clientSecret: undefined, redirectUrl: undefined };
      expect(await other.getTokens()).toEqual([{ id: '1', ...JSON.parse(JSON.stringify(onDisk)) }]);
      // It saves the token as it reads it (a save replaces the whole row), with a new access token.
      const seen = (await other.findTokenById('1'))!;
      await other.saveToken({ ...seen, accessToken: '1000.a.renewed' });
      expect(await ours.getTokens()).toEqual([{ ...saved, accessToken: '1000.a.renewed' }]);
    }
  });

  it.skipIf(!ts8Available)(
    'a v2 file the TypeScript SDK 8.0 upgrades to 10 columns gets the api_domain it kept at our next write',
    async () => {
      const path = freshPath();
      const ours = new FileStore({ path, layout: 'v2' });
      const saved = await ours.saveToken(FULL);
      await ts8Sdk.open(path); // its constructor rewrites a 9-column file with 10
      expect(readFileSync(path, 'utf8').split('\n')).toEqual([
        headerOf('ts-8'),
        '1,a@zylker.com,cid,sec,1000.r,1000.a,,1767225600000,https://app.example.com/cb,',
      ]);
      expect(await ours.findTokenById('1')).toEqual(saved);
      expect(ours.layout).toBe('ts-8');
      await ours.saveToken({ ...GRANT_ONLY });
      expect(readFileSync(path, 'utf8').split('\n')[1]).toBe(
        '1,a@zylker.com,cid,sec,1000.r,1000.a,,1767225600000,https://app.example.com/cb,https://www.zohoapis.com',
      );
      expect((await new FileStore({ path }).findTokenById('1'))?.apiDomain).toBe(FULL.apiDomain);
    },
  );
});

describe('ids where the file holds none of ours', () => {
  it('v2: an empty id or an SDK-made one longer than ours gets the next number, written at the next write', async () => {
    const path = freshPath();
    const sdkId = `typescript_a@zylker.com_production_${'0123456789abcdef'.repeat(2)}`;
    writeFileSync(
      path,
      `${headerOf('v2')}\n${sdkId},a@zylker.com,cid,sec,1000.r,,,,\n7,b@zylker.com,cid,sec,1000.r7,,,,\n,c@zylker.com,cid,sec,1000.rc,,,,`,
    );
    const store = new FileStore({ path });
    expect((await store.getTokens()).map((t) => [t.id, t.userName])).toEqual([
      ['7', 'b@zylker.com'],
      ['8', 'a@zylker.com'],
      ['9', 'c@zylker.com'],
    ]);
    // Every reader of the same bytes numbers them alike.
    expect((await new FileStore({ path }).findToken({ userName: 'c@zylker.com' }))?.id).toBe('9');
    await store.saveToken({ userName: 'b@zylker.com', accessToken: '1000.a7' });
    expect(
      readFileSync(path, 'utf8')
        .split('\n')
        .map((line) => line.split(',')[0]),
    ).toEqual(['id', '8', '7', '9']);
  });

  it('zcrmsdk: ids are row numbers; a delete renumbers the rows after it, as a fresh read does', async () => {
    const path = freshPath();
    const store = new FileStore({ path, layout: 'zcrmsdk' });
    for (const user of ['u1', 'u2', 'u3']) await store.saveToken(sampleToken(user));
    expect((await store.getTokens()).map((t) => [t.id, t.userName])).toEqual([
      ['1', 'u1'],
      ['2', 'u2'],
      ['3', 'u3'],
    ]);
    await store.deleteToken('2');
    expect((await store.getTokens()).map((t) => [t.id, t.userName])).toEqual([
      ['1', 'u1'],
      ['2', 'u3'],
    ]);
    expect((await new FileStore({ path }).getTokens()).map((t) => [t.id, t.userName])).toEqual([
      ['1', 'u1'],
      ['2', 'u3'],
    ]);
    // A caller's id for a new token is not kept: the token takes the next row.
    expect((await store.saveToken(sampleToken('u4', { id: '40' }))).id).toBe('3');
  });

  it('zcrmsdk: a stale row number never overwrites another user’s row', async () => {
    const path = freshPath();
    const store = new FileStore({ path, layout: 'zcrmsdk' });
    const u1 = await store.saveToken(sampleToken('u1'));
    await store.saveToken(sampleToken('u2'));
    // Another process deletes u1: u2 is row 1 now. A save of u1 under its old id 1 must not replace u2.
    await new FileStore({ path }).deleteToken('1');
    const again = await store.saveToken({ ...u1, accessToken: '1000.access.u1.new' });
    expect((await store.getTokens()).map((t) => [t.id, t.userName, t.accessToken])).toEqual([
      ['1', 'u2', sampleToken('u2').accessToken],
      ['2', 'u1', '1000.access.u1.new'],
    ]);
    expect(again.id).toBe('2');
    // The same user under its current id updates in place.
    await store.saveToken({ ...again, accessToken: '1000.access.u1.newer' });
    expect((await store.findTokenById('2'))?.accessToken).toBe('1000.access.u1.newer');
    expect(await store.getTokens()).toHaveLength(2);
  });
});

describe.skipIf(!fixturesAvailable)('the Python SDK file (fixture made as the Python SDK writes it)', () => {
  it('ours writes the same tokens byte for byte as the Python SDK did', async () => {
    const fixture = copyFixture(FIXTURES.python, mkdtempSync(join(dir, 'py-')));
    const path = freshPath();
    const store = new FileStore({ path, layout: 'python' });
    for (const token of FIXTURES.python.tokens) await store.saveToken(token);
    expect(readFileSync(path, 'utf8')).toBe(readFileSync(fixture, 'utf8'));
  });

  it('reads every field of the fixture, updates a row in place and keeps CRLF, quoting and the final line end', async () => {
    const path = copyFixture(FIXTURES.python, mkdtempSync(join(dir, 'py-')));
    const original = readFileSync(path, 'utf8');
    const store = new FileStore({ path });
    expect(await store.getTokens()).toEqual(FIXTURES.python.tokens);
    expect(store.layout).toBe('python');
    const bob = FIXTURES.python.tokens[1]!;
    await store.saveToken({ ...bob, accessToken: '1000.access.bob.renewed' });
    expect(readFileSync(path, 'utf8')).toBe(original.replace(bob.accessToken!, '1000.access.bob.renewed'));
    expect(await new FileStore({ path }).findToken({ userName: bob.userName })).toEqual({ ...bob, accessToken: '1000.access.bob.renewed' });
    // A comma is fine in this layout: the csv module reads it.
    const odd = await store.saveToken({ ...CLIENT, refreshToken: '1000.r', userName: 'Doe, "Jo"' });
    expect(readFileSync(path, 'utf8').endsWith(`4,"Doe, ""Jo""",${CLIENT.clientId},${CLIENT.clientSecret},1000.r,,,,,\r\n`)).toBe(true);
    expect(await new FileStore({ path }).findTokenById('4')).toEqual(odd);
  });
});
