/**
 * The conformance kit: one suite that every TokenStore (ours or a user's) runs from vitest to
 * prove it keeps the contract of ZOHO.md. Usage:
 *
 *   runTokenStoreConformance({ name: 'MyStore', create: () => new MyStore(), cleanup: (s) => s.close() });
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenStoreError } from '../errors.js';
import { hashRefreshToken, type ReauthMark } from '../reauth-marks.js';
import { supportsLocking, supportsReauthMarks, type TokenStore } from '../store.js';
import { compareIds, MAX_ID_LENGTH, type OAuthToken, SECRET_FIELDS, type StoredToken, type TokenField } from '../token.js';
import { outcomeOf, ReferenceModel } from './model.js';
import { CLIENT, sampleToken } from './sample.js';

export interface ConformanceOptions {
  /** Shown in the suite's title. */
  name: string;
  /** Makes an empty store; called before every test. */
  create: () => TokenStore | Promise<TokenStore>;
  /**
   * Called after every test with the store `create` made (default: store.close()). After the
   * close() test it receives a store already closed; a CLOSED error from it is then ignored.
   */
  cleanup?: (store: TokenStore) => void | Promise<void>;
  /**
   * Optional: every byte the store holds, as text (a file's content, a table dump). With it the
   * kit proves where secrets rest: in plaintext when `encrypted` is false, nowhere when it is true.
   */
  raw?: (store: TokenStore) => string | Promise<string>;
  /** The store encrypts secrets at rest (see `raw`). */
  encrypted?: boolean;
  /** Runs of the property-based test (default 40); lower it for slow remote stores. */
  propertyRuns?: number;
  /** Timeout per test in ms (default 30 s). */
  timeoutMs?: number;
  /**
   * The store refuses, by design, values with a comma, a double quote or a line break (a
   * FileStore whose layout the official SDKs read with a plain comma split): the round trip
   * of such values must then fail with INVALID_TOKEN naming the field, storing nothing.
   */
  refusesCommaValues?: boolean;
  /**
   * How the store makes the id of a new token: the largest numeric id + 1 (default), or a random
   * uuid v4 (a Python SDK table). With 'uuid' the kit checks uuids where it would check 1, 2, 3.
   */
  newIds?: 'numeric' | 'uuid';
  /** Longest id the store accepts (default 10, Zoho's varchar(10)); a longer one must be refused. */
  maxIdLength?: number;
  /**
   * Fields the store has no place for (a table layout without api_domain): the kit expects them
   * absent from what the store returns, never faked.
   */
  absentFields?: readonly TokenField[];
}

/**
 * What a failed check breaks, for the failure message: the rule, and the helper of
 * zoho-token-store that keeps it (docs/api.md), so a custom store's author knows what to call.
 */
const rule = (what: string, helper: string) => `${what} [the rule ${helper}() implements: see docs/api.md#${helper.toLowerCase()}]`;
const LOOKUP = (what: string) => rule(`findToken: ${what}`, 'lookupRuleOf');
const LOCATE = (what: string) => rule(`saveToken: ${what}`, 'locateForSave');
const NEXT_ID = (what: string) => rule(what, 'nextId');
const ORDER = (what: string) => rule(what, 'compareIds');
const NORMALIZE = (what: string) => rule(what, 'normalizeTokenForSave');
const VALID_ID = (what: string) => rule(what, 'validateId');
const STORE = (what: string) => rule(what, 'tokenToStore');

async function expectStoreError(call: () => unknown, reason: string, field?: string, what?: string): Promise<TokenStoreError> {
  let caught: unknown;
  try {
    await call(); // a synchronous throw counts too
  } catch (error) {
    caught = error;
  }
  const label =
    what ??
    (field === 'id'
      ? VALID_ID('a bad id is refused with INVALID_ARGUMENT')
      : reason === 'INVALID_TOKEN'
        ? NORMALIZE('a bad token is refused with INVALID_TOKEN, naming the field')
        : `expected a TokenStoreError (${reason})`);
  expect(caught, `${label}: expected a TokenStoreError of reason ${reason}, got ${String(caught)}`).toBeInstanceOf(TokenStoreError);
  const error = caught as TokenStoreError;
  expect(error.code, label).toBe('TOKEN_STORE');
  expect(error.reason, label).toBe(reason);
  if (field) {
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  }
  return error;
}

/** Why the lock tests skip: withLock is optional in TokenStore. */
const NO_LOCK = 'the store has no withLock';
/** Why the mark tests skip: ReauthMarkStore is optional. */
const NO_MARKS = 'the store has no re-authorization marks (ReauthMarkStore)';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A well-formed mark of token `tokenId`, for the rejected refresh token `refreshToken`. */
function markFor(tokenId: string, refreshToken: string): ReauthMark {
  return { tokenId, refreshTokenHash: hashRefreshToken(refreshToken), reason: 'invalid_code', markedAt: 1_765_000_000_000 };
}

export function runTokenStoreConformance(options: ConformanceOptions): void {
  const timeout = options.timeoutMs ?? 30_000;
  const uuids = options.newIds === 'uuid';
  const maxIdLength = options.maxIdLength ?? MAX_ID_LENGTH;
  /** The token as the store keeps it: without the fields it has no place for. */
  const kept = <T extends OAuthToken>(token: T): T => {
    const copy = { ...token };
    for (const field of options.absentFields ?? []) delete copy[field];
    return copy;
  };
  const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => compareIds(a.id, b.id));
  describe(`TokenStore conformance: ${options.name}`, () => {
    let store: TokenStore;
    let closedByTest = false;
    beforeEach(async () => {
      store = await options.create();
      closedByTest = false;
    }, timeout);
    afterEach(async () => {
      try {
        if (options.cleanup) await options.cleanup(store);
        else await store.close();
      } catch (error) {
        if (!(closedByTest && error instanceof TokenStoreError && error.reason === 'CLOSED')) throw error;
      }
    }, timeout);

    describe('an empty store', () => {
      it('has no tokens, finds nothing, and deletes without error', async () => {
        expect(await store.getTokens()).toEqual([]);
        expect(await store.findToken(sampleToken('nobody'))).toBeNull();
        expect(await store.findTokenById('1')).toBeNull();
        await store.deleteToken('1');
        await store.deleteTokens();
        expect(await store.getTokens()).toEqual([]);
      });
    });

    describe('ids', () => {
      if (uuids) {
        it('gives new tokens distinct uuid v4 ids', async () => {
          const ids: string[] = [];
          for (let i = 0; i < 12; i++) ids.push((await store.saveToken(sampleToken(`user${i}@zylker.com`))).id);
          for (const id of ids) expect(id, NEXT_ID('a new token in a uuid table gets a uuid v4')).toMatch(UUID_V4);
          expect(new Set(ids).size).toBe(12);
          expect(
            (await store.getTokens()).map((t) => t.id),
            ORDER('getTokens orders by id'),
          ).toEqual([...ids].sort(compareIds));
        });

        it('makes a uuid even when numeric ids are stored, and keeps non-numeric ones', async () => {
          await store.saveToken(sampleToken('a', { id: '41' }));
          await store.saveToken(sampleToken('b', { id: 'custom' }));
          expect((await store.saveToken(sampleToken('c'))).id, NEXT_ID('a uuid table makes uuids')).toMatch(UUID_V4);
          expect((await store.findTokenById('custom'))?.userName).toBe('b');
        });
      } else {
        it('gives new tokens decimal ids that count past 9 to 10 and beyond', async () => {
          const ids: string[] = [];
          for (let i = 0; i < 12; i++) ids.push((await store.saveToken(sampleToken(`user${i}@zylker.com`))).id);
          expect(ids, NEXT_ID('a new token gets the largest numeric id + 1 (9 is followed by 10)')).toEqual(
            Array.from({ length: 12 }, (_, i) => String(i + 1)),
          );
          expect(
            (await store.getTokens()).map((t) => t.id),
            ORDER('getTokens orders by id, numerically'),
          ).toEqual(ids);
        });

        it('follows the largest numeric id, ignoring non-numeric ones', async () => {
          await store.saveToken(sampleToken('a', { id: '41' }));
          await store.saveToken(sampleToken('b', { id: 'custom' }));
          expect(
            (await store.saveToken(sampleToken('c'))).id,
            NEXT_ID('the next id follows the largest numeric id, ignoring "custom"'),
          ).toBe('42');
          expect((await store.findTokenById('custom'))?.userName).toBe('b');
        });
      }

      it('keeps an id the caller chose for a new token', async () => {
        const saved = await store.saveToken(sampleToken('a', { id: '7' }));
        expect(saved.id, STORE('a new token keeps the id its caller chose')).toBe('7');
        expect((await store.findTokenById('7'))?.userName).toBe('a');
      });

      it('returns tokens ordered by id, numerically', async () => {
        for (const id of ['10', '2', '1', '33', '9']) await store.saveToken(sampleToken(`u${id}`, { id }));
        expect(
          (await store.getTokens()).map((t) => t.id),
          ORDER('getTokens orders by id, numerically'),
        ).toEqual(['1', '2', '9', '10', '33']);
      });
    });

    describe('findToken matching rules and their priority', () => {
      // The ids of the two tokens saved first ('1' and '2' where ids are counted).
      let alice = '';
      let nameless = '';
      beforeEach(async () => {
        alice = (await store.saveToken(sampleToken('alice@zylker.com', { grantToken: '1000.grant.alice' }))).id;
        nameless = (
          await store.saveToken({
            ...CLIENT,
            refreshToken: '1000.refresh.nameless',
            accessToken: '1000.access.nameless',
            grantToken: '1000.grant.nameless',
          })
        ).id;
        if (!uuids) expect([alice, nameless]).toEqual(['1', '2']);
      });

      it('1. finds by user name', async () => {
        const found = await store.findToken({ userName: 'alice@zylker.com' });
        expect(found?.id, LOOKUP('rule 1, by user name')).toBe(alice);
        expect(found?.refreshToken).toBe('1000.refresh.alice@zylker.com.aaaabbbbccccdddd');
      });

      it('1. a user name wins: other fields are not consulted', async () => {
        const why = LOOKUP('rule 1, a user name wins and no other field is consulted');
        expect(await store.findToken({ userName: 'nobody', accessToken: '1000.access.nameless' }), why).toBeNull();
        expect(await store.findToken({ userName: 'nobody', ...CLIENT, refreshToken: '1000.refresh.nameless' }), why).toBeNull();
      });

      it('2. finds by access token when no client id or secret is given', async () => {
        expect(
          (await store.findToken({ accessToken: '1000.access.nameless' }))?.id,
          LOOKUP('rule 2, by access token without client id or secret'),
        ).toBe(nameless);
      });

      it('2. the access-token rule does not apply with a client id or secret', async () => {
        const why = LOOKUP('rule 2 does not apply with a client id or secret');
        expect(await store.findToken({ accessToken: '1000.access.nameless', clientId: CLIENT.clientId }), why).toBeNull();
        expect(await store.findToken({ accessToken: '1000.access.nameless', clientSecret: CLIENT.clientSecret }), why).toBeNull();
      });

      it('3. finds by grant token with client credentials', async () => {
        const why = LOOKUP('rule 3, by grant token with client id and secret');
        expect((await store.findToken({ ...CLIENT, grantToken: '1000.grant.nameless' }))?.id, why).toBe(nameless);
        expect((await store.findToken({ ...CLIENT, grantToken: '1000.grant.alice' }))?.id, why).toBe(alice);
      });

      it('3. a grant token wins over a refresh token', async () => {
        expect(
          await store.findToken({ ...CLIENT, grantToken: '1000.grant.unknown', refreshToken: '1000.refresh.nameless' }),
          LOOKUP('rule 3, a grant token wins over a refresh token'),
        ).toBeNull();
      });

      it('4. finds by refresh token with client credentials', async () => {
        expect(
          (await store.findToken({ ...CLIENT, refreshToken: '1000.refresh.nameless' }))?.id,
          LOOKUP('rule 4, by refresh token with client id and secret'),
        ).toBe(nameless);
      });

      it('3-4. grant and refresh tokens need both client id and secret', async () => {
        const why = LOOKUP('rules 3-4 need both client id and secret');
        expect(await store.findToken({ refreshToken: '1000.refresh.nameless' }), why).toBeNull();
        expect(await store.findToken({ clientId: CLIENT.clientId, refreshToken: '1000.refresh.nameless' }), why).toBeNull();
        expect(await store.findToken({ grantToken: '1000.grant.nameless', clientSecret: CLIENT.clientSecret }), why).toBeNull();
      });

      it('finds nothing when no rule applies or nothing matches', async () => {
        const why = LOOKUP('no rule applies, or nothing matches');
        expect(await store.findToken({}), why).toBeNull();
        expect(await store.findToken({ ...CLIENT }), why).toBeNull();
        expect(await store.findToken({ accessToken: '1000.access.unknown' }), why).toBeNull();
      });

      it('ignores fields that matching does not read (a bad expiryTime, a long apiDomain)', async () => {
        // The hot path checks only what the rules read: a caller's stale extras never fail a lookup.
        const extras = { expiryTime: 'soon', apiDomain: 'x'.repeat(10_000) } as unknown as OAuthToken;
        expect((await store.findToken({ userName: 'alice@zylker.com', ...extras }))?.id).toBe(alice);
        expect((await store.findToken({ ...CLIENT, refreshToken: '1000.refresh.nameless', ...extras }))?.id).toBe(nameless);
        expect((await store.findToken({ accessToken: '1000.access.nameless', ...extras }))?.id).toBe(nameless);
      });

      it('returns the whole stored token, every field', async () => {
        expect(await store.findToken({ userName: 'alice@zylker.com' })).toEqual({
          id: alice,
          ...kept(sampleToken('alice@zylker.com', { grantToken: '1000.grant.alice' })),
        });
      });
    });

    describe('saveToken: update versus insert', () => {
      it('updates by user name', async () => {
        const first = await store.saveToken(sampleToken('alice'));
        const second = await store.saveToken(sampleToken('alice', { accessToken: '1000.access.new', expiryTime: 2 }));
        expect(second.id, LOCATE('updates the row of the same user name')).toBe(first.id);
        expect(await store.getTokens(), LOCATE('updates the row of the same user name')).toEqual([
          { ...kept(sampleToken('alice', { accessToken: '1000.access.new', expiryTime: 2 })), id: first.id },
        ]);
      });

      it('updates by access token when no client credentials are given', async () => {
        await store.saveToken({ accessToken: '1000.access.x', expiryTime: 1 });
        const saved = await store.saveToken({ accessToken: '1000.access.x', expiryTime: 5, apiDomain: 'https://www.zohoapis.eu' });
        expect(await store.getTokens(), LOCATE('updates by access token when no client credentials are given')).toEqual([
          kept({ id: saved.id, accessToken: '1000.access.x', expiryTime: 5, apiDomain: 'https://www.zohoapis.eu' }),
        ]);
      });

      it('updates by grant token with client credentials', async () => {
        await store.saveToken({ ...CLIENT, grantToken: '1000.grant.g' });
        await store.saveToken({ ...CLIENT, grantToken: '1000.grant.g', refreshToken: '1000.refresh.r', accessToken: '1000.access.a' });
        const all = await store.getTokens();
        expect(all, LOCATE('updates by grant token with client credentials')).toHaveLength(1);
        expect(all[0]?.refreshToken, LOCATE('updates by grant token with client credentials')).toBe('1000.refresh.r');
      });

      it('updates by refresh token with client credentials', async () => {
        await store.saveToken({ ...CLIENT, refreshToken: '1000.refresh.r', accessToken: '1000.access.old' });
        await store.saveToken({ ...CLIENT, refreshToken: '1000.refresh.r', accessToken: '1000.access.new' });
        const all = await store.getTokens();
        expect(all, LOCATE('updates by refresh token with client credentials')).toHaveLength(1);
        expect(all[0]?.accessToken, LOCATE('updates by refresh token with client credentials')).toBe('1000.access.new');
      });

      it('matches by id first, even when the user name changed', async () => {
        const alice = (await store.saveToken(sampleToken('alice'))).id;
        const bob = (await store.saveToken(sampleToken('bob'))).id;
        await store.saveToken(sampleToken('carol', { id: alice }));
        expect(
          (await store.getTokens()).map((t) => [t.id, t.userName]),
          LOCATE('matches by id first'),
        ).toEqual(
          byId([
            { id: alice, userName: 'carol' },
            { id: bob, userName: 'bob' },
          ]).map((t) => [t.id, t.userName]),
        );
      });

      it('an unknown id falls back to the rules and keeps the stored id', async () => {
        const first = await store.saveToken(sampleToken('alice'));
        const saved = await store.saveToken(sampleToken('alice', { id: '99', accessToken: '1000.access.z' }));
        const why = LOCATE('an unknown id falls back to the rules and keeps the stored id');
        expect(saved.id, why).toBe(first.id);
        expect(
          (await store.getTokens()).map((t) => [t.id, t.accessToken]),
          why,
        ).toEqual([[first.id, '1000.access.z']]);
      });

      it('inserts when nothing matches, and keeps users apart', async () => {
        await store.saveToken(sampleToken('alice'));
        await store.saveToken(sampleToken('bob'));
        expect((await store.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.alice.eeeeffff00001111');
        expect((await store.findToken({ userName: 'bob' }))?.accessToken).toBe('1000.access.bob.eeeeffff00001111');
        expect(await store.getTokens(), LOCATE('inserts when nothing matches')).toHaveLength(2);
      });

      it('resolves to the token as stored, with its id', async () => {
        const saved = await store.saveToken(sampleToken('alice'));
        expect(saved, STORE('saveToken resolves to the token as stored, with its id')).toEqual({
          id: uuids ? saved.id : '1',
          ...kept(sampleToken('alice')),
        });
        expect(typeof saved.expiryTime, NORMALIZE('expiryTime is a number')).toBe('number');
      });

      it('accepts expiryTime as Zoho stores it (a string of digits) and returns a number', async () => {
        const saved = await store.saveToken(sampleToken('alice', { expiryTime: '1767225600123' as unknown as number }));
        const why = NORMALIZE('an expiryTime of digits is saved as a number');
        expect(saved.expiryTime, why).toBe(1_767_225_600_123);
        expect((await store.findTokenById(saved.id))?.expiryTime, why).toBe(1_767_225_600_123);
      });
    });

    describe('bad input', () => {
      it('rejects a token with an id or user name but no grant, refresh or access token', async () => {
        await expectStoreError(() => store.saveToken({ id: '5', ...CLIENT }), 'INVALID_TOKEN');
        await expectStoreError(() => store.saveToken({ userName: 'alice', ...CLIENT }), 'INVALID_TOKEN');
        expect(await store.getTokens()).toEqual([]);
      });

      it('rejects a non-object token', async () => {
        for (const bad of [null, undefined, 'token', 42, ['1']]) {
          await expectStoreError(() => store.saveToken(bad as unknown as OAuthToken), 'INVALID_TOKEN');
          await expectStoreError(() => store.findToken(bad as unknown as OAuthToken), 'INVALID_TOKEN');
        }
      });

      it('rejects a non-numeric expiryTime, naming the field', async () => {
        await expectStoreError(
          () => store.saveToken(sampleToken('a', { expiryTime: 'soon' as unknown as number })),
          'INVALID_TOKEN',
          'expiryTime',
        );
        await expectStoreError(() => store.saveToken(sampleToken('a', { expiryTime: Number.NaN })), 'INVALID_TOKEN', 'expiryTime');
        await expectStoreError(() => store.saveToken(sampleToken('a', { expiryTime: -1 })), 'INVALID_TOKEN', 'expiryTime');
      });

      it('rejects a field of the wrong type, naming it', async () => {
        await expectStoreError(
          () => store.saveToken(sampleToken('a', { refreshToken: 12 as unknown as string })),
          'INVALID_TOKEN',
          'refreshToken',
        );
      });

      it('rejects an empty or malformed id', async () => {
        await expectStoreError(() => store.findTokenById(''), 'INVALID_ARGUMENT', 'id');
        await expectStoreError(() => store.deleteToken(''), 'INVALID_ARGUMENT', 'id');
        await expectStoreError(() => store.findTokenById(7 as unknown as string), 'INVALID_ARGUMENT', 'id');
        await expectStoreError(() => store.findTokenById('1'.repeat(maxIdLength + 1)), 'INVALID_ARGUMENT', 'id');
        await expectStoreError(() => store.saveToken(sampleToken('a', { id: '' })), 'INVALID_ARGUMENT', 'id');
      });

      it('a failed save leaves the stored row as it was', async () => {
        const before = await store.saveToken(sampleToken('alice'));
        await expectStoreError(
          () => store.saveToken({ ...sampleToken('alice'), expiryTime: 'later' as unknown as number }),
          'INVALID_TOKEN',
        );
        await expectStoreError(() => store.saveToken({ userName: 'alice', ...CLIENT }), 'INVALID_TOKEN');
        expect(await store.getTokens()).toEqual([before]);
      });

      it('error messages never contain a secret whole', async () => {
        const secret = '1000.topsecret.0123456789abcdef0123456789abcdef';
        const error = await expectStoreError(
          () => store.saveToken({ userName: 'a', refreshToken: secret, expiryTime: 'x' as unknown as number }),
          'INVALID_TOKEN',
        );
        expect(error.message).not.toContain(secret);
      });
    });

    describe('round trip', () => {
      const awkward: Record<string, string> = {
        comma: 'a,b,,c',
        quotes: 'say "hi", \'there\'',
        newline: 'line1\nline2\r\nline3',
        unicode: 'Zoë 日本語 🚀 \u00e9\u0301',
        spaces: '  padded value  ',
        long: `${'x'.repeat(254)}y`,
        sqlish: "'; DROP TABLE oauthtoken; --",
        backslash: 'C:\\path\\to\\"file"\\',
      };
      for (const [label, value] of Object.entries(awkward)) {
        it(`keeps every field exactly: ${label}`, async () => {
          // Each field distinct; the 'long' case makes every text field exactly 255 characters.
          const f = (suffix: string) => (label === 'long' ? `${suffix}${value}`.slice(0, 255) : `${value}-${suffix}`);
          const token: OAuthToken = {
            userName: f('user'),
            clientId: f('cid'),
            clientSecret: f('secret'),
            refreshToken: f('refresh'),
            accessToken: f('access'),
            grantToken: f('grant'),
            expiryTime: 1_767_225_600_999,
            redirectUrl: f('redirect'),
            apiDomain: f('domain'),
          };
          if (options.refusesCommaValues && /[",\r\n]/.test(value)) {
            await expectStoreError(() => store.saveToken(token), 'INVALID_TOKEN');
            expect(await store.getTokens()).toEqual([]);
            return;
          }
          const saved = await store.saveToken(token);
          expect(saved).toEqual({ id: saved.id, ...kept(token) });
          expect(await store.findTokenById(saved.id)).toEqual(saved);
          expect(await store.findToken({ userName: token.userName })).toEqual(saved);
          expect(await store.findToken({ accessToken: token.accessToken })).toEqual(saved);
          expect(await store.findToken({ ...CLIENT, grantToken: token.grantToken })).toEqual(saved);
          expect(await store.getTokens()).toEqual([saved]);
        });
      }

      it('keeps absent fields absent', async () => {
        const saved = await store.saveToken({ refreshToken: '1000.refresh.only', ...CLIENT });
        expect(await store.findTokenById(saved.id)).toEqual({ id: saved.id, refreshToken: '1000.refresh.only', ...CLIENT });
      });
    });

    describe('returned tokens are copies', () => {
      it('mutating a returned or saved token changes nothing stored', async () => {
        const input = sampleToken('alice');
        const saved = await store.saveToken(input);
        input.accessToken = 'mutated-input';
        saved.accessToken = 'mutated-saved';
        const found = await store.findToken({ userName: 'alice' });
        if (found) found.refreshToken = 'mutated-found';
        const all = await store.getTokens();
        if (all[0]) all[0].clientSecret = 'mutated-list';
        expect(await store.findTokenById(saved.id)).toEqual({ id: saved.id, ...kept(sampleToken('alice')) });
      });
    });

    describe('delete', () => {
      it('deletes one token and keeps the others', async () => {
        const alice = (await store.saveToken(sampleToken('alice'))).id;
        await store.saveToken(sampleToken('bob'));
        await store.deleteToken(alice);
        expect(await store.findTokenById(alice)).toBeNull();
        expect(await store.findToken({ userName: 'alice' })).toBeNull();
        expect((await store.getTokens()).map((t) => t.userName)).toEqual(['bob']);
      });

      it('deletes all tokens', async () => {
        await store.saveToken(sampleToken('alice'));
        await store.saveToken(sampleToken('bob'));
        await store.deleteTokens();
        expect(await store.getTokens()).toEqual([]);
        const carol = (await store.saveToken(sampleToken('carol'))).id;
        if (uuids) expect(carol).toMatch(UUID_V4);
        else expect(carol).toBe('1');
      });

      it('a deleted token is no longer found by any rule', async () => {
        const alice = (await store.saveToken(sampleToken('alice', { grantToken: '1000.grant.alice' }))).id;
        await store.deleteToken(alice);
        expect(await store.findToken({ accessToken: '1000.access.alice.eeeeffff00001111' })).toBeNull();
        expect(await store.findToken({ ...CLIENT, grantToken: '1000.grant.alice' })).toBeNull();
        expect(await store.findToken({ ...CLIENT, refreshToken: '1000.refresh.alice.aaaabbbbccccdddd' })).toBeNull();
      });
    });

    describe('concurrency', () => {
      it('50 simultaneous saves of one user leave one row', async () => {
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.saveToken(sampleToken('alice', { accessToken: `1000.access.${i}` }))));
        const all = await store.getTokens();
        expect(all).toHaveLength(1);
        expect(all[0]?.userName).toBe('alice');
      });

      it('50 simultaneous saves of distinct users leave 50 rows with distinct ids', async () => {
        const saved = await Promise.all(Array.from({ length: 50 }, (_, i) => store.saveToken(sampleToken(`user${i}`))));
        const all = await store.getTokens();
        expect(all).toHaveLength(50);
        expect(new Set(all.map((t) => t.id)).size).toBe(50);
        expect(new Set(saved.map((t) => t.id)).size).toBe(50);
        for (const token of saved) expect((await store.findToken({ userName: token.userName }))?.id).toBe(token.id);
      });
    });

    if (options.raw) {
      const raw = options.raw;
      it(options.encrypted ? 'stores no secret in plaintext' : 'stores what it is given (raw read sees the values)', async () => {
        const token = sampleToken('vault@zylker.com', { grantToken: '1000.grant.vault.9999888877776666' });
        await store.saveToken(token);
        const text = await raw(store);
        for (const field of SECRET_FIELDS) {
          const secret = token[field] as string;
          if (options.encrypted) expect(text, `${field} is in plaintext`).not.toContain(secret);
          else expect(text).toContain(secret);
        }
      });
    }

    describe('close()', () => {
      it('after close() every call fails with reason CLOSED, and close() again resolves', async () => {
        closedByTest = true;
        await store.close();
        const calls: Record<string, () => unknown> = {
          findToken: () => store.findToken(sampleToken('alice')),
          findTokenById: () => store.findTokenById('1'),
          saveToken: () => store.saveToken(sampleToken('alice')),
          deleteToken: () => store.deleteToken('1'),
          getTokens: () => store.getTokens(),
          deleteTokens: () => store.deleteTokens(),
        };
        if (supportsReauthMarks(store)) {
          const marking = store;
          calls.getReauthMarks = () => marking.getReauthMarks();
          calls.setReauthMark = () => marking.setReauthMark(markFor('1', 'closed'));
        }
        const locking = supportsLocking(store) ? store : undefined;
        let lockRan = false;
        if (locking) calls.withLock = () => locking.withLock('conformance:closed', 1_000, async () => (lockRan = true));
        for (const [method, call] of Object.entries(calls)) {
          await expectStoreError(
            call,
            'CLOSED',
            undefined,
            rule(`${method} after close() must throw TokenStoreError('CLOSED')`, 'ClosedGuard'),
          );
        }
        expect(lockRan, 'withLock after close() must not run its function').toBe(false);
        await expect(store.close(), 'a second close() resolves (ClosedGuard.close() says whether to release)').resolves.toBeUndefined();
      });
    });

    describe('withLock (when supported)', () => {
      it('runs callers one at a time, returns the value and releases on error', async (ctx) => {
        if (!supportsLocking(store)) return ctx.skip(NO_LOCK);
        const locking = store;
        let inside = 0;
        let overlap = false;
        const work = async (i: number) =>
          locking.withLock('conformance:lock', 5_000, async () => {
            inside++;
            if (inside > 1) overlap = true;
            await sleep(5);
            inside--;
            return i;
          });
        expect(await Promise.all([1, 2, 3, 4, 5].map(work))).toEqual([1, 2, 3, 4, 5]);
        expect(overlap).toBe(false);
        await expect(locking.withLock('conformance:lock', 5_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
        expect(await locking.withLock('conformance:lock', 5_000, async () => 'again')).toBe('again');
      });

      it('a lock expires after its ttl, and only its owner releases it', async (ctx) => {
        if (!supportsLocking(store)) return ctx.skip(NO_LOCK);
        const locking = store;
        const events: string[] = [];
        // A holds past its ttl; B takes the expired lock; A's late release must not free B's lock.
        const a = locking.withLock('conformance:ttl', 200, async () => {
          events.push('a:start');
          await sleep(700);
          events.push('a:end');
        });
        await sleep(50);
        const b = locking.withLock('conformance:ttl', 10_000, async () => {
          events.push('b:start');
          await sleep(1_000);
          events.push('b:end');
        });
        await sleep(850);
        const c = locking.withLock('conformance:ttl', 10_000, async () => {
          events.push('c:start');
        });
        await Promise.all([a, b, c]);
        expect(events.indexOf('b:start')).toBeLessThan(events.indexOf('a:end'));
        expect(events.indexOf('c:start')).toBeGreaterThan(events.indexOf('b:end'));
      });

      it('rejects a bad key or ttl', async (ctx) => {
        if (!supportsLocking(store)) return ctx.skip(NO_LOCK);
        const locking = store;
        await expectStoreError(() => locking.withLock('', 1000, async () => 1), 'INVALID_ARGUMENT');
        await expectStoreError(() => locking.withLock('k', 0, async () => 1), 'INVALID_ARGUMENT');
      });
    });

    describe('re-authorization marks (when supported)', () => {
      // Each test clears the marks it set: a SQL side table outlives the test's token table.
      it('keeps one mark per token: set, get, list ordered by id, replace, clear', async (ctx) => {
        if (!supportsReauthMarks(store)) return ctx.skip(NO_MARKS);
        const marking = store;
        const ids = ['10', '9', 'abc'];
        try {
          expect(await marking.getReauthMarks()).toEqual([]);
          expect(await marking.getReauthMark('9')).toBeNull();
          for (const id of ids) await marking.setReauthMark(markFor(id, `refresh-${id}`));
          expect(
            (await marking.getReauthMarks()).map((m) => m.tokenId),
            ORDER('marks are listed by token id'),
          ).toEqual(['9', '10', 'abc']);
          expect(await marking.getReauthMark('10')).toEqual(markFor('10', 'refresh-10'));
          const replaced: ReauthMark = { ...markFor('10', 'refresh-10b'), reason: 'invalid_token', markedAt: 1_800_000_000_000 };
          await marking.setReauthMark(replaced);
          expect(await marking.getReauthMark('10'), 'a second mark of a token replaces the first').toEqual(replaced);
          expect(await marking.getReauthMarks()).toHaveLength(3);
          await marking.clearReauthMark('10');
          await marking.clearReauthMark('10'); // clearing twice is not an error
          await marking.clearReauthMark('404');
          expect(await marking.getReauthMark('10')).toBeNull();
          expect((await marking.getReauthMarks()).map((m) => m.tokenId)).toEqual(['9', 'abc']);
        } finally {
          for (const id of ids) await marking.clearReauthMark(id);
        }
        expect(await marking.getReauthMarks()).toEqual([]);
      });

      it('lives beside the tokens: saving, reading and deleting tokens is unchanged by marks', async (ctx) => {
        if (!supportsReauthMarks(store)) return ctx.skip(NO_MARKS);
        const marking = store;
        const saved = await store.saveToken(sampleToken('alice'));
        try {
          await marking.setReauthMark(markFor(saved.id, sampleToken('alice').refreshToken ?? ''));
          expect(await store.getTokens()).toEqual([kept(saved)]);
          expect(await store.findToken(sampleToken('alice'))).toEqual(kept(saved));
          expect((await marking.getReauthMark(saved.id))?.refreshTokenHash).toBe(hashRefreshToken(sampleToken('alice').refreshToken));
        } finally {
          await marking.clearReauthMark(saved.id);
        }
      });

      it('refuses a malformed mark with INVALID_ARGUMENT and stores nothing', async (ctx) => {
        if (!supportsReauthMarks(store)) return ctx.skip(NO_MARKS);
        const marking = store;
        const good = markFor('1', 'refresh');
        const bad: unknown[] = [
          { ...good, refreshTokenHash: 'not-a-hash' },
          { ...good, refreshTokenHash: good.refreshTokenHash.toUpperCase() },
          { ...good, reason: 'invalid code; DROP TABLE' },
          { ...good, reason: 'x'.repeat(65) },
          { ...good, tokenId: '' },
          { ...good, tokenId: ' 1' },
          { ...good, markedAt: -1 },
          { ...good, markedAt: 1.5 },
          { ...good, refreshToken: 'the token itself' },
          null,
        ];
        try {
          for (const mark of bad) await expectStoreError(() => marking.setReauthMark(mark as ReauthMark), 'INVALID_ARGUMENT');
          expect(await marking.getReauthMarks()).toEqual([]);
        } finally {
          await marking.clearReauthMark('1');
        }
      });
    });

    describe('property: random operation sequences behave like the reference model', () => {
      const users = ['alice', 'bob', 'carol'];
      const tokenValues = ['1000.t.one', '1000.t.two', '1000.t.three', '1000.t.four'];
      const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
      const tokenArb = fc.record(
        {
          id: maybe(fc.constantFrom('1', '2', '3', '10', 'x')),
          userName: maybe(fc.constantFrom(...users)),
          clientId: maybe(fc.constant(CLIENT.clientId)),
          clientSecret: maybe(fc.constant(CLIENT.clientSecret)),
          refreshToken: maybe(fc.constantFrom(...tokenValues)),
          accessToken: maybe(fc.constantFrom(...tokenValues)),
          grantToken: maybe(fc.constantFrom(...tokenValues)),
          expiryTime: maybe(fc.integer({ min: 0, max: 2_000_000_000_000 })),
          apiDomain: maybe(fc.constantFrom('https://www.zohoapis.com', 'https://www.zohoapis.eu')),
        },
        { requiredKeys: [] },
      );
      const opArb = fc.oneof(
        { weight: 5, arbitrary: tokenArb.map((token) => ({ op: 'save' as const, token })) },
        { weight: 3, arbitrary: tokenArb.map((token) => ({ op: 'find' as const, token })) },
        { weight: 2, arbitrary: fc.constantFrom('1', '2', '3', '4', '10', 'x').map((id) => ({ op: 'findById' as const, id })) },
        { weight: 1, arbitrary: fc.constantFrom('1', '2', '3', 'x').map((id) => ({ op: 'delete' as const, id })) },
        { weight: 1, arbitrary: fc.constant({ op: 'getAll' as const }) },
        { weight: 1, arbitrary: fc.constant({ op: 'deleteAll' as const }) },
      );

      it(
        'same results for every operation',
        async () => {
          await fc.assert(
            fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
              await store.deleteTokens();
              const model = new ReferenceModel({
                ...(options.newIds ? { newIds: options.newIds } : {}),
                maxIdLength,
                ...(options.absentFields ? { absentFields: options.absentFields } : {}),
              });
              for (const step of ops) {
                const [actual, expected] = await (async () => {
                  switch (step.op) {
                    case 'save': {
                      const actual = await outcomeOf(() => store.saveToken(step.token));
                      const storeId = actual.ok ? (actual.value as StoredToken).id : undefined;
                      return [actual, await outcomeOf(() => model.saveToken(step.token, storeId))];
                    }
                    case 'find':
                      return [await outcomeOf(() => store.findToken(step.token)), await outcomeOf(() => model.findToken(step.token))];
                    case 'findById':
                      return [await outcomeOf(() => store.findTokenById(step.id)), await outcomeOf(() => model.findTokenById(step.id))];
                    case 'delete':
                      return [await outcomeOf(() => store.deleteToken(step.id)), await outcomeOf(() => model.deleteToken(step.id))];
                    case 'getAll':
                      return [await outcomeOf(() => store.getTokens()), await outcomeOf(() => model.getTokens())];
                    case 'deleteAll':
                      return [await outcomeOf(() => store.deleteTokens()), await outcomeOf(() => model.deleteTokens())];
                  }
                })();
                expect(
                  actual,
                  `${JSON.stringify(step)} differs from the reference model, which is lookupRuleOf, locateForSave, nextId and compareIds over an array (docs/api.md)`,
                ).toEqual(expected);
              }
              expect(await store.getTokens()).toEqual(model.getTokens());
            }),
            { numRuns: options.propertyRuns ?? 40 },
          );
        },
        Math.max(timeout, 120_000),
      );
    });
  });
}
