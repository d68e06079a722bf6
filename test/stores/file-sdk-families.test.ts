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
