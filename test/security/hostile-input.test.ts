/**
 * Hostile strings through save, find and delete of every store: each value either round-trips
 * exactly or is refused with a TokenStoreError, and no other row (or table) is touched.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';
import type { TokenStore } from '../../src/store.js';
import { CLIENT, sampleToken } from '../../src/testing/index.js';
import type { OAuthToken, StoredToken } from '../../src/token.js';
import { allStoreFactories } from '../helpers/all-stores.js';

const HOSTILE = [
  "'",
  '"',
  "' OR 1=1 --",
  '" OR ""="',
  "'; DROP TABLE oauthtoken; --",
  '; DELETE FROM oauthtoken',
  '\\',
  "\\'",
  '\u0000',
  'a\u0000b',
  '\r\n',
  '\n',
  ',',
  '*',
  '?',
  '%',
  '_',
  '$1',
  '{"$gt":""}',
  'zoho:idx:*',
  'KEYS *',
  '\u202e',
  '😀',
  'x'.repeat(10_000),
  'y'.repeat(4096),
];

const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.tuple(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 10 }), fc.constantFrom(...HOSTILE)).map((parts) => parts.join('')),
);

const SENTINEL = sampleToken('sentinel@zylker.com', { grantToken: '1000.grant.sentinel' });

for (const factory of await allStoreFactories()) {
  describe(`hostile input: ${factory.name}`, () => {
    let store: TokenStore;
    let sentinel: StoredToken;
    beforeAll(async () => {
      store = await factory.create();
      sentinel = await store.saveToken(SENTINEL);
    });
    afterAll(async () => factory.destroy(store));

    it('every hostile value round-trips exactly or is refused, and the sentinel row is untouched', async () => {
      let stored = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(
          hostileString,
          fc.constantFrom('userName', 'refreshToken', 'accessToken', 'grantToken', 'redirectUrl', 'clientSecret'),
          async (value, field) => {
            const token: OAuthToken = { ...sampleToken('victim'), [field]: value };
            if (field !== 'userName') token.userName = `victim-${field}`;
            let saved: StoredToken | null = null;
            try {
              saved = await store.saveToken(token);
            } catch (error) {
              expect(error).toBeInstanceOf(TokenStoreError);
              refused++;
            }
            if (saved) {
              stored++;
              const byId = await store.findTokenById(saved.id);
              const expected = value === '' ? undefined : value;
              expect(byId?.[field as keyof OAuthToken]).toBe(expected);
              if (field === 'userName' && expected) expect((await store.findToken({ userName: value }))?.id).toBe(saved.id);
              if (field === 'accessToken' && expected) expect((await store.findToken({ accessToken: value }))?.id).toBe(saved.id);
              if (field === 'grantToken' && expected) expect((await store.findToken({ ...CLIENT, grantToken: value }))?.id).toBe(saved.id);
              await store.deleteToken(saved.id);
              expect(await store.findTokenById(saved.id)).toBeNull();
            }
            // lookups with the hostile value find nothing else
            const found = await store
              .findToken({ userName: value })
              .catch((e) => (e instanceof TokenStoreError ? null : Promise.reject(e)));
            if (found) expect(found.userName).toBe(value);
            expect(await store.findTokenById(sentinel.id)).toEqual(sentinel);
          },
        ),
        { numRuns: 150 },
      );
      const all = await store.getTokens();
      expect(all).toEqual([sentinel]);
      console.log(`${factory.name}: ${stored} hostile values stored and round-tripped, ${refused} refused`);
    }, 120_000);

    it('hostile ids are refused or harmless', async () => {
      for (const id of ["1' OR '1'='1", '1; DROP TABLE x', '*', '%', '\u0000', '', ' 1', '12345678901']) {
        await store.deleteToken(id).catch((e) => expect(e).toBeInstanceOf(TokenStoreError));
        const found = await store.findTokenById(id).catch((e) => (e instanceof TokenStoreError ? null : Promise.reject(e)));
        expect(found).toBeNull();
      }
      expect(await store.getTokens()).toEqual([sentinel]);
    });
  });
}

describe('hostile names are refused before they reach a database, server or disk', () => {
  const tables = ['oauthtoken; DROP TABLE x', 'a b', '"quoted"', '`tick`', "o'brien", 'x'.repeat(64), '1abc', '', 'tab\tle', 'café'];

  it('table names', async () => {
    const { SQLiteStore } = await import('../../src/stores/sqlite.js');
    const { DBStore } = await import('../../src/stores/mysql.js');
    const { PostgresStore } = await import('../../src/stores/postgres.js');
    for (const table of tables) {
      expect(() => new SQLiteStore({ path: ':memory:', table }), table).toThrow(/Invalid table name/);
      expect(() => new DBStore({ table }), table).toThrow(/Invalid table name/);
      expect(() => new PostgresStore({ table }), table).toThrow(/Invalid table name/);
    }
  });

  it('Redis key prefixes', async () => {
    const { RedisStore } = await import('../../src/stores/redis.js');
    for (const prefix of ['', 'a b', 'zoho:*', 'x?', '[ab]', 'new\nline', 'x'.repeat(65), 'quo"te']) {
      expect(() => new RedisStore({ prefix }), JSON.stringify(prefix)).toThrow(TokenStoreError);
    }
  });

  it('token file paths', async () => {
    const { FileStore } = await import('../../src/stores/file.js');
    for (const path of ['', '   ', 'a\u0000b', '/', '/no/such/folder/tokens.txt']) {
      expect(() => new FileStore({ path }), JSON.stringify(path)).toThrow(TokenStoreError);
    }
  });
});
