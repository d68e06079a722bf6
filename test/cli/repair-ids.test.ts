/**
 * `ztoken repair-ids` on token files the real typescript-sdk 6.0 and 7.0 FileStores wrote with
 * their repeated id 10: FileStore's refusal names the command; --dry-run prints old -> new and
 * writes nothing; the real run renumbers atomically, keeps every token (ours and the SDK's own
 * store read them all back), and a rerun finds nothing to do. No output shows a secret whole.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FileStore } from '../../src/stores/file.js';
import type { OAuthToken } from '../../src/token.js';
import { SDK_FILE_FAMILIES } from '../stores/helpers/sdk-file-families.js';
import { expectNoSecrets, outputs, runCli, tempDir } from './helpers.js';

const temp = tempDir('ztoken-repair-ids');
afterAll(() => temp.remove());
const secrets = new Set<string>();
const CLIENT = { clientId: '1000.REPAIRCLIENT000000000000000000', clientSecret: `repair-secret-${randomBytes(8).toString('hex')}` };
secrets.add(CLIENT.clientSecret);

function tokens(n: number): OAuthToken[] {
  return Array.from({ length: n }, (_, i) => {
    const refreshToken = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
    const accessToken = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
    secrets.add(refreshToken);
    secrets.add(accessToken);
    return { userName: `u${i + 1}@zylker.com`, ...CLIENT, refreshToken, accessToken, expiryTime: 1_767_225_600_000 + i };
  });
}

const withoutId = ({ id: _id, ...rest }: OAuthToken) => rest;
const byUser = (a: OAuthToken, b: OAuthToken) => String(a.userName).localeCompare(String(b.userName));

for (const family of SDK_FILE_FAMILIES.filter((f) => /typescript-sdk-[67]\.0/.test(f.label))) {
  const available = await family.available();
  describe.skipIf(!available)(`a file the official ${family.label} FileStore wrote (13 tokens)`, () => {
    test('is refused naming repair-ids; the dry run changes nothing; the repair renumbers 3 rows and keeps all 13', async () => {
      const path = join(temp.dir, `${family.label.replace(/\W+/g, '_')}.txt`);
      const official = await family.open(path);
      const list = tokens(13);
      for (const token of list) await official.save(token);
      const written = readFileSync(path, 'utf8');
      expect(written.split('\n').map((line) => line.split(',')[0])).toEqual(['id', ...'1 2 3 4 5 6 7 8 9 10 10 10 10'.split(' ')]);

      const ours = new FileStore({ path });
      await expect(ours.findToken({ userName: 'u1@zylker.com' })).rejects.toThrow(
        `ztoken repair-ids --store file:${path} (add --dry-run to see the changes first)`,
      );

      const dry = await runCli(['repair-ids', '--store', `file:${path}`, '--dry-run']);
      expect(dry.code).toBe(0);
      const changes = [
        '  line 12: id 10 -> 11 (u11@zylker.com)',
        '  line 13: id 10 -> 12 (u12@zylker.com)',
        '  line 14: id 10 -> 13 (u13@zylker.com)',
      ];
      expect(dry.stdout.split('\n').filter((l) => l.startsWith('  line '))).toEqual(changes);
      expect(dry.stdout).toContain(`Dry run: would give 3 tokens a new id in file:${path}; nothing was written.`);
      expect(readFileSync(path, 'utf8')).toBe(written);

      const real = await runCli(['repair-ids', '--store', `file:${path}`]);
      expect(real.code).toBe(0);
      expect(real.stdout.split('\n').filter((l) => l.startsWith('  line '))).toEqual(changes);
      expect(real.stdout).toContain(`✓ Gave 3 tokens a new id in file:${path}; all 13 tokens kept.`);
      // Only the three id cells changed; the file stays the SDK's layout, mode 0600.
      const repaired = readFileSync(path, 'utf8');
      const before = written.split('\n');
      const after = repaired.split('\n');
      expect(after).toHaveLength(before.length);
      after.forEach((line, i) => {
        // Row i (after the header) is the i-th token: from the 11th on, its id becomes i.
        expect(line).toBe(i < 11 ? before[i] : before[i]?.replace(/^10,/, `${i},`));
      });
      expect(after.map((line) => line.split(',')[0])).toEqual(['id', ...Array.from({ length: 13 }, (_, i) => String(i + 1))]);
      expect(statSync(path).mode & 0o777).toBe(0o600);

      // Every token is there, read by ours and by the SDK's own store, each id now naming one user.
      await ours.close();
      const reread = new FileStore({ path });
      try {
        const all = await reread.getTokens();
        expect(all.map((t) => t.id)).toEqual(Array.from({ length: 13 }, (_, i) => String(i + 1)));
        expect(all.map(withoutId).sort(byUser)).toEqual([...list].sort(byUser));
        expect((await reread.findTokenById('12'))?.userName).toBe('u12@zylker.com');
      } finally {
        await reread.close();
      }
      const sdk = await family.open(path);
      expect((await sdk.all()).map(withoutId).sort(byUser)).toEqual([...list].sort(byUser));
      expect((await sdk.byId?.('13'))?.userName).toBe('u13@zylker.com');
      expect((await sdk.byId?.('10'))?.userName).toBe('u10@zylker.com');

      const rerun = await runCli(['repair-ids', '--store', `file:${path}`]);
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toContain(`✓ No repeated ids in file:${path}: nothing to repair.`);
      expect(readFileSync(path, 'utf8')).toBe(repaired);
    });
  });
}

describe('ztoken repair-ids', () => {
  test('refuses a store that is not a token file (exit 2) and a missing file (exit 1), changing nothing', async () => {
    const [notFile, missing] = await Promise.all([
      runCli(['repair-ids', '--store', `sqlite:${join(temp.dir, 'x.db')}`]),
      runCli(['repair-ids', '--store', `file:${join(temp.dir, 'missing.txt')}`]),
    ]);
    expect(notFile.code).toBe(2);
    expect(notFile.stderr).toContain('repair-ids works on a token file');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No token file at ${join(temp.dir, 'missing.txt')}`);
  });

  test('no command printed a secret whole', () => {
    expect(outputs.length).toBeGreaterThan(0);
    expectNoSecrets(outputs, secrets);
  });
});
