/**
 * The token commands end to end against the emulator and a SQLite file: exchange, list, show,
 * refresh, revoke, delete, purge. The steps build on each other, in order. Every output of the
 * file is checked at the end for the secrets the test knows: the client secret, the grant codes,
 * and every access and refresh token the store ever held.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { secretsOf, type StoredToken } from '../../src/token.js';
import { type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { expectNoSecrets, freePort, outputs, runCli, storedTokensOf, tempDir } from './helpers.js';

const CLIENT_ID = `1000.CLITEST${randomBytes(8).toString('hex').toUpperCase()}`;
const CLIENT_SECRET = `cli-test-client-secret-${randomBytes(12).toString('hex')}`;
const REDACTED = /^.{1,8}…\(\d+ chars\)$/;

const temp = tempDir('ztoken-tokens');
const db = join(temp.dir, 'tokens.db');
const secrets = new Set<string>([CLIENT_SECRET]);
let emulator: Emulator;
let env: Record<string, string>;

const storedTokens = (): Promise<StoredToken[]> => storedTokensOf(db, secrets);

async function byUser(): Promise<Record<string, StoredToken>> {
  return Object.fromEntries((await storedTokens()).map((t) => [t.userName ?? `#${t.id}`, t]));
}

function grant(userEmail: string): string {
  const code = emulator.issueGrantToken({ clientId: CLIENT_ID, userEmail });
  secrets.add(code);
  return code;
}

const ALICE = 'alice@zylker.com:700123456';
const BOB = 'bob@zylker.com:700123456';
const CAROL = 'carol-custom';

beforeAll(async () => {
  emulator = await startEmulator({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] });
  env = { ZOHO_CLIENT_ID: CLIENT_ID, ZOHO_CLIENT_SECRET: CLIENT_SECRET, ZOHO_ACCOUNTS_URL: emulator.url, ZTOKEN_STORE: `sqlite:${db}` };
});

afterAll(async () => {
  await emulator?.close();
  temp.remove();
});

describe('ztoken token commands', () => {
  test('exchange saves grant tokens; a reused, unknown or badly authenticated grant fails in plain words', async () => {
    const codes = { alice: grant('alice@zylker.com'), bob: grant('bob@zylker.com'), carol: grant('carol@zylker.com') };
    const spare = grant('dave@zylker.com');
    const [alice, bob, carol, wrongSecret, unknownCode, noClientId, noSecret] = await Promise.all([
      runCli(['exchange', '--grant-token', codes.alice], { env }),
      runCli(['exchange', '--grant-token', codes.bob], { env }),
      runCli(['exchange', '--grant-token', codes.carol, '--user', CAROL], { env }),
      runCli(['exchange', '--grant-token', spare], { env: { ...env, ZOHO_CLIENT_SECRET: 'not-the-right-secret-123' } }),
      runCli(['exchange', '--grant-token', `1000.${'ab'.repeat(16)}.${'cd'.repeat(16)}`], { env }),
      runCli(['exchange', '--grant-token', spare], { env: { ...env, ZOHO_CLIENT_ID: undefined } }),
      runCli(['exchange', '--grant-token', spare, '--client-id', CLIENT_ID], { env: { ...env, ZOHO_CLIENT_SECRET: undefined } }),
    ]);
    for (const [result, user] of [
      [alice, ALICE],
      [bob, BOB],
      [carol, CAROL],
    ] as const) {
      // The store did not exist: the exchanges that found it missing say they create it.
      expect(result.stderr.replace(/^New token store sqlite:.*: it did not exist, so it is created\.\n/, '')).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        new RegExp(`✓ Saved token \\d+ \\(${user.replace(/\./g, '\\.')}\\) in sqlite:${db.replace(/[.\\/]/g, '\\$&')}`),
      );
      expect(result.stdout).toMatch(/access token {2}1000\.[0-9a-f]{3}…\(70 chars\), valid (59m|1h)/);
    }

    expect(wrongSecret.code).toBe(1);
    expect(wrongSecret.stderr).toContain('ztoken: error: Zoho rejected the client credentials (invalid_client)');
    expect(wrongSecret.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(unknownCode.code).toBe(1);
    expect(unknownCode.stderr).toMatch(
      /Zoho rejected grant token .* \(invalid_code\): a grant token is valid for 3 minutes and for one use, so it has expired or was already used/,
    );
    expect(noClientId.code).toBe(2);
    expect(noClientId.stderr).toContain('pass --client-id or set ZOHO_CLIENT_ID');
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('set ZOHO_CLIENT_SECRET or pass --client-secret');

    const users = await byUser();
    expect(Object.keys(users).sort()).toEqual([ALICE, BOB, CAROL].sort());
    expect(emulator.counters.grantExchanges).toBe(3);

    // The same grant token again: found in the store, not sent to Zoho a second time.
    const again = await runCli(['exchange', '--grant-token', codes.alice], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`This grant token was exchanged before: it is token ${users[ALICE]?.id} (${ALICE})`);
    expect(emulator.counters.grantExchanges).toBe(3);
  });

  test('list and show print tables and JSON with every secret redacted', async () => {
    const users = await byUser();
    const aliceId = users[ALICE]?.id ?? '';
    const [table, json, show, showJson, missing, badId, otherStore] = await Promise.all([
      runCli(['list'], { env }),
      runCli(['list', '--json'], { env }),
      runCli(['show', aliceId], { env }),
      runCli(['show', aliceId, '--json'], { env }),
      runCli(['show', '999'], { env }),
      runCli(['show', '12345678901'], { env }),
      runCli(['list', '--store', 'memory:'], { env }),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[1]).toMatch(/│ id +│ user +│ client +│ kind +│ dc +│ api domain +│ expiry +│/);
    for (const user of [ALICE, BOB, CAROL]) {
      const row = lines.find((line) => line.includes(user));
      expect(row).toMatch(
        new RegExp(
          `│ ${users[user]?.id} +│ ${user.replace(/\./g, '\\.')} +│ 1000\\.CLIT…[0-9A-F]{4} │ refresh +│ US +│ ${emulator.url.replace(/[.\\/]/g, '\\$&')} │ valid (59m|1h) +│`,
        ),
      );
    }
    expect(table.stdout).toContain(`3 tokens in sqlite:${db}`);

    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(listed.map((t) => t.userName).sort()).toEqual([ALICE, BOB, CAROL].sort());
    // The emulator is ZOHO_ACCOUNTS_URL here: its tokens are the configured DC's.
    expect(listed.map((t) => t.dataCenter)).toEqual(['US', 'US', 'US']);
    for (const entry of listed) {
      for (const field of ['clientSecret', 'refreshToken', 'accessToken', 'grantToken']) expect(entry[field]).toMatch(REDACTED);
      expect(entry.clientId).toBe(CLIENT_ID);
      expect(entry.expiryState).toBe('valid');
      expect(entry.expiresAt).toBe(new Date(entry.expiryTime as number).toISOString());
    }

    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`│ id +│ ${aliceId} +│`));
    expect(show.stdout).toMatch(/│ client secret +│ cli-test…\(\d+ chars\) +│/);
    expect(show.stdout).toMatch(/│ refresh token +│ 1000\.[0-9a-f]{3}…\(70 chars\) +│/);
    expect(show.stdout).toMatch(/│ expiry +│ \d{4}-\d\d-\d\dT[\d:.]+Z \(valid (59m|1h)\) +│/);
    const shown = JSON.parse(showJson.stdout) as Record<string, unknown>;
    expect(shown.id).toBe(aliceId);
    expect(shown.userName).toBe(ALICE);
    expect(shown.accessToken).toMatch(REDACTED);
    expect(shown.clientSecret).toMatch(REDACTED);

    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No token with id 999 in sqlite:${db}`);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('Invalid token id');
    expect(otherStore.code).toBe(0);
    expect(otherStore.stdout).toContain('No tokens in memory:.');
  });

  test('refresh forces a new access token, with the client from env or from the stored token', async () => {
    const before = await byUser();
    const refreshesBefore = emulator.counters.refreshes;
    const [alice, bob] = await Promise.all([
      runCli(['refresh', before[ALICE]?.id ?? ''], { env }),
      // No client in env or flags: the stored token's own client id and secret are used.
      runCli(['refresh', before[BOB]?.id ?? ''], { env: { ZTOKEN_STORE: env.ZTOKEN_STORE, ZOHO_ACCOUNTS_URL: emulator.url } }),
    ]);
    expect(alice.code).toBe(0);
    expect(alice.stdout).toContain(`✓ Refreshed token ${before[ALICE]?.id} (${ALICE})`);
    expect(bob.code).toBe(0);
    expect(bob.stdout).toMatch(/access token 1000\.[0-9a-f]{3}…\(70 chars\), valid (59m|1h)/);
    expect(emulator.counters.refreshes).toBe(refreshesBefore + 2);
    const after = await byUser();
    expect(after[ALICE]?.accessToken).not.toBe(before[ALICE]?.accessToken);
    expect(after[BOB]?.accessToken).not.toBe(before[BOB]?.accessToken);
    expect(after[ALICE]?.refreshToken).toBe(before[ALICE]?.refreshToken);
    expect(after[CAROL]).toEqual(before[CAROL]);
  });

  test('revoke revokes at Zoho then deletes; a token whose api domain is not trusted is kept and nothing sent; delete removes locally', async () => {
    const users = await byUser();
    const bob = users[BOB] as StoredToken;
    const carol = users[CAROL] as StoredToken;
    const closedPort = await freePort();
    // Another accounts server configured: the stored apiDomain (this emulator) is no longer one we
    // configured, so it is refused as data, not trusted as a URL.
    const untrusted = await runCli(['revoke', bob.id], { env: { ...env, ZOHO_ACCOUNTS_URL: `http://127.0.0.1:${closedPort}` } });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain(`The token's apiDomain "${emulator.url}" is not a Zoho API host`);
    expect((await byUser())[BOB]).toBeDefined();

    const revocations = emulator.counters.revocations;
    const [revoked, deleted] = await Promise.all([runCli(['revoke', bob.id], { env }), runCli(['delete', carol.id], { env })]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`✓ Revoked token ${bob.id} (${BOB}) at Zoho US (${emulator.url})`);
    expect(revoked.stdout).toContain(`✓ Deleted token ${bob.id} (${BOB}) from sqlite:${db}`);
    expect(emulator.counters.revocations).toBe(revocations + 1);
    expect(emulator.revokeRefreshToken(bob.refreshToken ?? '')).toBe(false); // already revoked at Zoho
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain(`✓ Deleted token ${carol.id} (${CAROL}) from sqlite:${db}`);
    expect(deleted.stdout).toContain('Its refresh token still works at Zoho');
    expect(emulator.revokeRefreshToken(carol.refreshToken ?? '')).toBe(true); // delete alone leaves it live

    expect(Object.keys(await byUser())).toEqual([ALICE]);
    const again = await runCli(['delete', carol.id], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`No token with id ${carol.id}`);
  });

  test('purge deletes by expiry time, prints the count, and --dry-run deletes nothing', async () => {
    const now = Date.now();
    const store = new SQLiteStore({ path: db });
    const old = await store.saveToken({
      userName: 'old-user',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      refreshToken: `purge-old-rt-${randomBytes(8).toString('hex')}`,
      accessToken: `purge-old-at-${randomBytes(8).toString('hex')}`,
      expiryTime: now - 40 * 86_400_000,
    });
    const recent = await store.saveToken({
      userName: 'recent-user',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      refreshToken: `purge-recent-rt-${randomBytes(8).toString('hex')}`,
      accessToken: `purge-recent-at-${randomBytes(8).toString('hex')}`,
      expiryTime: now - 3_600_000,
    });
    const grantOnly = await store.saveToken({
      userName: 'grant-only',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      grantToken: `purge-grant-${randomBytes(8).toString('hex')}`,
    });
    await store.close();
    await storedTokens();

    const [dryRun, neither] = await Promise.all([
      runCli(['purge', '--older-than', '30d', '--dry-run'], { env }),
      runCli(['purge'], { env }),
    ]);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/│ \d+ +│ old-user +│ .* │ expired 40d ago +│/);
    expect(dryRun.stdout).toContain(`Dry run: would delete 1 token that expired more than 30d ago from sqlite:${db} (ids ${old.id}).`);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('purge needs --expired or --older-than DURATION');
    expect((await storedTokens()).length).toBe(4);

    const olderThan = await runCli(['purge', '--older-than', '30d'], { env });
    expect(olderThan.code).toBe(0);
    expect(olderThan.stdout).toContain(`✓ Deleted 1 of 1 token that expired more than 30d ago from sqlite:${db} (ids ${old.id}).`);
    expect((await byUser())['old-user']).toBeUndefined();

    const expired = await runCli(['purge', '--expired'], { env });
    expect(expired.code).toBe(0);
    expect(expired.stdout).toMatch(/│ \d+ +│ grant-only +│ .* │ no access token +│/);
    expect(expired.stdout).toContain(`✓ Deleted 2 of 2 tokens that have expired from sqlite:${db} (ids ${recent.id}, ${grantOnly.id}).`);
    expect(Object.keys(await byUser())).toEqual([ALICE]);

    const nothing = await runCli(['purge', '--expired'], { env });
    expect(nothing.stdout).toContain('No tokens that have expired');
  });

  test('refresh reports a throttled refresh as a failure and keeps the stored token', async () => {
    const strict = await startEmulator({
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
      limits: { accessPerRefreshPer10Min: 1 },
    });
    const strictDb = join(temp.dir, 'throttled.db');
    const strictEnv = { ...env, ZOHO_ACCOUNTS_URL: strict.url, ZTOKEN_STORE: `sqlite:${strictDb}` };
    try {
      const code = strict.issueGrantToken({ clientId: CLIENT_ID });
      secrets.add(code);
      expect((await runCli(['exchange', '--grant-token', code, '--user', 'throttled'], { env: strictEnv })).code).toBe(0);
      expect((await runCli(['refresh', '1'], { env: strictEnv })).code).toBe(0);
      const store = new SQLiteStore({ path: strictDb });
      const before = await store.findTokenById('1');
      const throttled = await runCli(['refresh', '1'], { env: strictEnv });
      const after = await store.findTokenById('1');
      await store.close();
      for (const token of [before, after]) for (const s of secretsOf(token)) secrets.add(s);
      expect(throttled.code).toBe(1);
      expect(throttled.stderr).toContain(
        'ztoken: error: Zoho gave token 1 (throttled) no new access token: Zoho throttled the token endpoint',
      );
      expect(throttled.stderr).toMatch(/The stored access token was kept \(valid (59m|1h)\)\./);
      // One failure, told once: no manager warning before the error.
      expect(throttled.stderr).not.toContain('warning:');
      expect(throttled.stderr.split('throttled the token endpoint').length).toBe(2);
      expect(after).toEqual(before);
      expect(strict.counters.throttled).toBe(1);
    } finally {
      await strict.close();
    }
  });

  test('no command printed a secret whole', async () => {
    await storedTokens();
    expect(outputs.length).toBeGreaterThan(20);
    expectNoSecrets(outputs, secrets);
  });
});
