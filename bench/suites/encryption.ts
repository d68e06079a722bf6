/**
 * What encryption at rest costs: SQLiteStore on a temp file with and without EncryptedStore,
 * same rows, same run. Target: at most +10 µs median per findToken / saveToken at 100,000 tokens.
 *
 * "random" picks a token at random from all of them on every call (at 100,000 tokens the
 * cipher cache almost never holds it: the cold cost); "hot" cycles through 100 tokens, the
 * working set of an application calling Zoho for a few users (the cache holds them).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldCipher } from '../../src/crypto/cipher.js';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import type { TokenStore } from '../../src/store.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import type { OAuthToken, StoredToken } from '../../src/token.js';
import { type BenchContext, seededRandom } from '../lib.js';
import { encryptedToken, seedSqliteFile } from '../lib-seed.js';

const SUITE = 'encryption';
const CLIENT = { clientId: '1000.BENCHCLIENT0000000000000000000', clientSecret: '0123456789abcdef0123456789abcdef0123456789' };
const HOT_SET = 100;

function hex(random: () => number, length: number): string {
  let out = '';
  while (out.length < length)
    out += Math.floor(random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return out.slice(0, length);
}

/** A Zoho-shaped 70-character token: `1000.` + 32 hex + `.` + 32 hex. */
const zohoToken = (random: () => number) => `1000.${hex(random, 32)}.${hex(random, 32)}`;

function makeTokens(count: number): StoredToken[] {
  const random = seededRandom(7);
  return Array.from({ length: count }, (_, i) => ({
    id: String(i + 1),
    userName: `user${i + 1}@zylker.com`,
    ...CLIENT,
    refreshToken: zohoToken(random),
    accessToken: zohoToken(random),
    grantToken: zohoToken(random),
    expiryTime: 1_767_225_600_000 + i,
    redirectUrl: 'https://app.example.com/callback',
    apiDomain: 'https://www.zohoapis.com',
  }));
}

export async function run(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-bench-encryption-'));
  const keys = [{ id: 'bench', key: randomBytes(32) }];
  const cipher = new FieldCipher(keys, { cacheEntries: 4 }); // the client secret repeats
  try {
    for (const size of ctx.sizes) {
      const tokens = makeTokens(size);
      const plainPath = join(dir, `plain-${size}.db`);
      const encryptedPath = join(dir, `encrypted-${size}.db`);
      seedSqliteFile(plainPath, tokens);
      seedSqliteFile(
        encryptedPath,
        tokens.map((t) => encryptedToken(cipher, t)),
      );
      const subjects: [string, TokenStore][] = [
        ['SQLiteStore', new SQLiteStore({ path: plainPath })],
        ['EncryptedStore(SQLiteStore)', new EncryptedStore(new SQLiteStore({ path: encryptedPath }), { keys })],
      ];
      const random = seededRandom(size);
      const pickRandom = () => tokens[Math.floor(random() * size)] as StoredToken;
      let hot = 0;
      const pickHot = () => tokens[hot++ % Math.min(HOT_SET, size)] as StoredToken;
      let counter = 0;
      const freshAccess = () => `1000.${(++counter).toString(16).padStart(32, '0')}.${'ab'.repeat(16)}`;

      const operations: [string, string, (store: TokenStore) => () => Promise<unknown>][] = [
        ['findToken by refresh token', 'random', (s) => () => s.findToken({ ...CLIENT, refreshToken: pickRandom().refreshToken })],
        ['findToken by refresh token', 'hot', (s) => () => s.findToken({ ...CLIENT, refreshToken: pickHot().refreshToken })],
        // The SDK's save after a refresh: the whole token with id and user name, a new access token.
        ['saveToken update (id + user)', 'random', (s) => () => s.saveToken({ ...pickRandom(), accessToken: freshAccess() })],
        ['saveToken update (id + user)', 'hot', (s) => () => s.saveToken({ ...pickHot(), accessToken: freshAccess() })],
        // No id, no user name: matched by refresh token (the encrypted store locates the row first).
        [
          'saveToken update (refresh token)',
          'random',
          (s) => () => {
            const { id: _id, userName: _user, ...rest } = pickRandom();
            return s.saveToken({ ...rest, accessToken: freshAccess() } satisfies OAuthToken);
          },
        ],
      ];
      for (const [operation, pick, make] of operations) {
        const medians: number[] = [];
        for (const [subject, store] of subjects) {
          const result = await ctx.measure(make(store), { timeMs: ctx.quick ? 250 : 600 });
          medians.push(result.medianUs);
          const added = medians.length === 2 ? result.medianUs - (medians[0] as number) : undefined;
          ctx.record({
            suite: SUITE,
            subject,
            operation: `${operation} [${pick}]`,
            tokens: size,
            ...result,
            note: added === undefined ? undefined : `${added >= 0 ? '+' : ''}${added.toFixed(1)} µs vs plain`,
          });
        }
      }
      for (const [, store] of subjects) await store.close();
      rmSync(plainPath, { force: true });
      rmSync(encryptedPath, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
