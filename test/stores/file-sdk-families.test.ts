// Every official Zoho Node SDK family against our FileStore on one token file, both ways:
// the official FileStore writes and ours reads every field; ours writes (in that family's
// layout) and the official one reads every field, finds our rows by its own rules and updates
// them. The SDKs are the real packages, installed as dev dependencies under aliases.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/stores/file.js';
import { FILE_LAYOUTS } from '../../src/stores/file/layouts.js';
import type { OAuthToken, StoredToken, TokenField } from '../../src/token.js';
import { SDK_FILE_FAMILIES, type SdkFileFamily } from './helpers/sdk-file-families.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-file-families-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `f${++n}.txt`);

const CLIENT = { clientId: '1000.FAMILYCLIENT0000000000000000000', clientSecret: 'family-secret-0123456789abcdef' };
// Every SDK family needs a user on each token (the v2 and zcrmsdk stores refuse a token without one).
const TOKENS: OAuthToken[] = [
  {
    userName: 'carol@zylker.com',
    ...CLIENT,
    refreshToken: '1000.refresh.carol.0123456789abcdef',
    accessToken: '1000.access.carol.fedcba9876543210',
    expiryTime: 1767225600003,
    redirectUrl: 'https://app.example.com/callback',
    apiDomain: 'https://www.zohoapis.com',
  },
  { userName: 'dave@zylker.com', ...CLIENT, refreshToken: '1000.refresh.dave.00001111', expiryTime: 1767225600004 },
  { userName: 'erin@zylker.com', ...CLIENT, grantToken: '1000.grant.erin.22223333', redirectUrl: 'https://app.example.com/callback' },
];
const RENEWED = { accessToken: '1000.access.carol.renewed', expiryTime: 1767229200003 };

/** The part of a token the family's file holds. */
function held(family: SdkFileFamily, token: OAuthToken): OAuthToken {
  const out: Record<string, unknown> = {};
  for (const field of family.fields) if (token[field] !== undefined) out[field] = token[field];
  return out as OAuthToken;
}
const without = (token: OAuthToken, field: TokenField) => {
  const { [field]: _dropped, ...rest } = token;
  return rest;
};

/** The official v2 and zcrmsdk stores save by deleting the row and appending it again. */
const movesSavedRows = (family: SdkFileFamily) => family.layout === 'v2' || family.layout === 'zcrmsdk';

for (const family of SDK_FILE_FAMILIES) {
  const available = await family.available();
  describe.skipIf(!available)(`FileStore and the official ${family.label} FileStore (layout ${family.layout})`, () => {
    it('the official store writes, ours reads every field and keeps its layout', async () => {
      const path = freshPath();
      const official = await family.open(path);
      expect(readFileSync(path, 'utf8')).toBe(FILE_LAYOUTS[family.layout].header.join(','));
      for (const token of TOKENS) await official.save(token);
      await official.save({ ...TOKENS[0]!, ...RENEWED });
      const carol = { ...TOKENS[0]!, ...RENEWED };
      const order = movesSavedRows(family) ? [TOKENS[1]!, TOKENS[2]!, carol] : [carol, TOKENS[1]!, TOKENS[2]!];

      const ours = new FileStore({ path });
      const read = await ours.getTokens();
      expect(ours.layout).toBe(family.layout);
      // v2 writes no id of its own (saveToken writes the token's, empty here) and zcrmsdk has
      // no id column: such rows are numbered in file order.
      expect(read).toEqual(order.map((token, i) => ({ id: String(i + 1), ...held(family, without(token, 'id')) })));
      for (const token of read) expect(await ours.findToken({ userName: token.userName })).toEqual(token);

      // Our next save is in the same layout, which the official store reads back.
      const added = await ours.saveToken({ userName: 'frank@zylker.com', ...CLIENT, refreshToken: '1000.refresh.frank.4444' });
      expect(added.id).toBe('4');
      expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(FILE_LAYOUTS[family.layout].header.join(','));
      expect(await (await family.open(path)).all()).toEqual([...read, added].map((token) => held(family, token)));
    });

    it('ours writes in its layout, the official store reads every field and finds and updates our rows', async () => {
      const path = freshPath();
      const ours = new FileStore({ path, layout: family.layout });
      const saved: StoredToken[] = [];
      for (const token of TOKENS) saved.push(await ours.saveToken(token));
      expect(saved.map((t) => t.id)).toEqual(['1', '2', '3']);
      const official = await family.open(path);
      expect(await official.all()).toEqual(saved.map((token) => held(family, token)));
      for (const token of saved) {
        const found = await official.find(token);
        expect(found, token.userName).not.toBeNull();
        for (const field of family.fields) expect(found![field], `${token.userName} ${field}`).toEqual(held(family, token)[field]);
      }
      if (official.byId) expect(await official.byId('2')).toEqual(held(family, saved[1]!));

      // The official store refreshes carol's token; ours sees the new access token, and still
      // has what its file has no column for (kept in memory).
      await official.save({ ...held(family, saved[0]!), ...RENEWED });
      const carol = await ours.findToken({ userName: 'carol@zylker.com' });
      expect(carol).toEqual({ ...saved[0]!, ...RENEWED, id: carol!.id });
      expect(await ours.getTokens()).toHaveLength(3);
      if (!movesSavedRows(family)) expect(carol!.id).toBe('1');
    });
  });
}

// typescript-sdk 6.0 and 7.0 build a new id as 1 + the largest FIRST DIGIT of the ids in the
// file, so their 11th token and every one after it get id 10. Ours refuses such a file
// clearly, naming the cause, and leaves it as it is.
for (const family of SDK_FILE_FAMILIES.filter((f) => /typescript-sdk-[67]\.0/.test(f.label))) {
  const available = await family.available();
  describe.skipIf(!available)(`the official ${family.label} FileStore's repeated id 10`, () => {
    it('is refused as CORRUPT, naming the line and the cause; the file is left untouched', async () => {
      const path = freshPath();
      const official = await family.open(path);
      for (let i = 1; i <= 11; i++) await official.save({ userName: `u${i}@zylker.com`, ...CLIENT, refreshToken: `1000.refresh.u${i}` });
      const content = readFileSync(path, 'utf8');
      expect(content.split('\n').map((line) => line.split(',')[0])).toEqual([
        'id',
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
        '8',
        '9',
        '10',
        '10',
      ]);
      const ours = new FileStore({ path });
      await expect(ours.getTokens()).rejects.toThrow(
        /line 12: id "10" is already used on line 11 \(typescript-sdk 6\.0 and 7\.0 give every token/,
      );
      await expect(ours.saveToken({ userName: 'x@zylker.com', ...CLIENT, refreshToken: '1000.r' })).rejects.toThrow(/CORRUPT|Corrupt/);
      expect(readFileSync(path, 'utf8')).toBe(content);
    });
  });
}

// The v2 SDKs write the token's own id: none (an empty cell) when saveToken gets a token
// without one, or the long one OAuthToken.generateId makes (`typescript_<email>_<env>_<refresh
// tail>`), which does not fit our ids. Ours numbers such rows and writes the numbers at its
// next write; the SDK finds tokens by user, client and token, and by the id it reads back.
for (const family of SDK_FILE_FAMILIES.filter((f) => f.layout === 'v2')) {
  const available = await family.available();
  describe.skipIf(!available)(`the official ${family.label} FileStore's own ids`, () => {
    it('an SDK-made id or none is numbered by ours, written at our next write, and the SDK then finds that id', async () => {
      const path = freshPath();
      const official = await family.open(path);
      const sdkId = `typescript_carol@zylker.com_production_${'0123456789abcdef'.repeat(2)}`;
      await official.save({ ...TOKENS[0]!, id: sdkId });
      await official.save(TOKENS[1]!);
      const ours = new FileStore({ path });
      const [carol, dave] = await ours.getTokens();
      expect([carol?.id, dave?.id]).toEqual(['1', '2']);
      expect(carol).toEqual({ id: '1', ...held(family, TOKENS[0]!) });
      expect(readFileSync(path, 'utf8')).toContain(sdkId); // reading changes nothing
      await ours.saveToken({ ...dave!, accessToken: '1000.access.dave.ours' });
      expect(readFileSync(path, 'utf8')).not.toContain(sdkId);
      const again = await family.open(path);
      expect(await again.byId!('1')).toEqual(held(family, carol!));
      expect((await again.find(TOKENS[1]!))?.accessToken).toBe('1000.access.dave.ours');
    });
  });
}
