/**
 * `ztoken migrate` end to end: SQLite into a non-empty SQLite (matching rules, free ids kept, no
 * duplicates on a rerun, counts verified), into memory:, into every other store that exists
 * here and back out of it, usage errors, and Ctrl-C in the middle (no half-written token; a rerun
 * finishes). Every token carries recognisable secrets that no output may show whole.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openStore } from '../../src/stores/url.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { type OAuthToken, type StoredToken, sameTokenContent } from '../../src/token.js';
import { MYSQL_URL, POSTGRES_URL, REDIS_URL, serviceAvailable, uniqueName } from '../services.js';
import { expectNoSecrets, outputs, runCli, startCli, storeExists, tempDir } from './helpers.js';

const temp = tempDir('ztoken-migrate');
const secrets = new Set<string>();
const CLIENT_ID = '1000.MIGRATETEST';

function secret(kind: string, i: number): string {
  const value = `${kind}-SECRET-${i}-${randomBytes(6).toString('hex')}`;
  secrets.add(value);
  return value;
}

/** `users` tokens named by user, one matched by its refresh token, one no rule applies to. */
function sourceTokens(users: number): OAuthToken[] {
  const now = Date.now();
  const tokens: OAuthToken[] = [];
  for (let i = 1; i <= users; i++) {
    tokens.push({
      userName: `user${i}@zylker.com`,
      clientId: CLIENT_ID,
      clientSecret: secret('client', i),
      refreshToken: secret('refresh', i),
      accessToken: secret('access', i),
      grantToken: secret('grant', i),
      expiryTime: now + i * 60_000,
      redirectUrl: 'http://127.0.0.1:8765/callback',
      apiDomain: 'https://www.zohoapis.eu',
    });
  }
  tokens.push({ clientId: CLIENT_ID, clientSecret: secret('client', 0), refreshToken: secret('refresh-only', 0), expiryTime: now });
  tokens.push({ clientId: CLIENT_ID, accessToken: secret('access-only', 0), expiryTime: now + 1000 });
  return tokens;
}

async function seed(url: string, tokens: OAuthToken[]): Promise<StoredToken[]> {
  const store = await openStore(url);
  try {
    const saved: StoredToken[] = [];
    for (const token of tokens) saved.push(await store.saveToken(token));
    return saved;
  } finally {
    await store.close();
  }
}

async function contents(url: string): Promise<StoredToken[]> {
  const store = await openStore(url);
  try {
    return await store.getTokens();
  } finally {
    await store.close();
  }
}

/** Every source token has exactly one copy with the same values in the target. */
function expectAllCopied(source: StoredToken[], target: StoredToken[]): void {
  for (const token of source) expect(target.filter((t) => sameTokenContent(t, token))).toHaveLength(1);
}

afterAll(() => temp.remove());

describe('ztoken migrate', () => {
  test.concurrent('copies into a non-empty SQLite target by the matching rules, keeps free ids, reruns without duplicates', async () => {
    const from = `sqlite:${join(temp.dir, 'source.db')}`;
    const to = `sqlite:${join(temp.dir, 'target.db')}`;
    const source = await seed(from, sourceTokens(6)); // ids 1..8
    // The target already holds user1 (stale values, id 1) and someone else at id 5.
    await seed(to, [
      {
        userName: 'user1@zylker.com',
        clientId: CLIENT_ID,
        clientSecret: secret('client', 99),
        refreshToken: secret('stale', 1),
        expiryTime: 1,
      },
      { userName: 'keep-me@zylker.com', refreshToken: secret('keep', 1) },
      { userName: 'keep-me-too@zylker.com', refreshToken: secret('keep', 2) },
      { userName: 'keep-me-three@zylker.com', refreshToken: secret('keep', 3) },
      { userName: 'other@zylker.com', refreshToken: secret('other', 5) },
    ]);

    const first = await runCli(['migrate', '--from', from, '--to', to]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Migrating 8 tokens from ${from} to ${to}`);
    expect(first.stdout).toContain('✓ Copied 8 tokens: 7 new (4 with a new id), 1 updated, 0 already there');
    expect(first.stdout).toContain('✓ Verified: all 8 source tokens are in the target, which now holds 12 tokens');
    expect(first.stderr).toContain('copied: 8/8'); // plain progress lines: not a terminal
    expect(first.stderr).toContain('verified: 8/8');

    const target = await contents(to);
    expect(target).toHaveLength(12);
    expectAllCopied(source, target);
    expect(target.filter((t) => t.userName === 'user1@zylker.com')).toHaveLength(1);
    expect(target.find((t) => t.userName === 'user1@zylker.com')?.id).toBe('1');
    expect(target.find((t) => t.userName === 'other@zylker.com')?.id).toBe('5');
    // Source ids 6, 7 and 8 were free in the target: kept.
    for (const id of ['6', '7', '8'])
      expect(sameTokenContent(target.find((t) => t.id === id) ?? {}, source.find((t) => t.id === id) ?? {})).toBe(true);

    const rerun = await runCli(['migrate', '--from', from, '--to', to]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('✓ Copied 8 tokens: 0 new (0 with a new id), 0 updated, 8 already there');
    expect(rerun.stdout).toContain('which now holds 12 tokens');
    expect(await contents(to)).toEqual(target);

    const toMemory = await runCli(['migrate', '--from', from, '--to', 'memory:']);
    expect(toMemory.code).toBe(0);
    expect(toMemory.stdout).toContain('✓ Copied 8 tokens: 8 new (0 with a new id), 0 updated, 0 already there');
    expect(toMemory.stdout).toContain('✓ Verified: all 8 source tokens are in the target, which now holds 8 tokens');
  });

  test.concurrent('refuses a wrong command line (exit 2) and names a store it cannot open (exit 1)', async () => {
    const from = `sqlite:${join(temp.dir, 'usage.db')}`;
    await new SQLiteStore({ path: join(temp.dir, 'usage.db') }).close();
    const [noTarget, same, badScheme, unreachable] = await Promise.all([
      runCli(['migrate', '--from', from]),
      runCli(['migrate', '--from', from, '--to', from]),
      runCli(['migrate', '--from', from, '--to', 'mongodb://localhost/x']),
      runCli(['migrate', '--from', 'sqlite:/nonexistent-dir/tokens.db', '--to', 'memory:']),
    ]);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain("required option '--to <url>' not specified");
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('--from and --to name the same store');
    expect(badScheme.code).toBe(2);
    expect(badScheme.stderr).toContain(
      'supported schemes are sqlite: file: mysql: postgres: postgresql: redis: rediss: redis+cluster: rediss+cluster: memory:',
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('No SQLite database at /nonexistent-dir/tokens.db');
    for (const result of [noTarget, same, badScheme, unreachable]) expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test.concurrent('Ctrl-C stops between two saves, says how far it got, exits 130; a rerun finishes', async () => {
    const from = `sqlite:${join(temp.dir, 'big-source.db')}`;
    const to = `sqlite:${join(temp.dir, 'big-target.db')}`;
    const total = 2000;
    const store = new SQLiteStore({ path: join(temp.dir, 'big-source.db') });
    for (let i = 0; i < total; i++) {
      await store.saveToken({
        userName: `bulk${i}`,
        clientId: CLIENT_ID,
        clientSecret: `bulk-client-secret-${i}`,
        refreshToken: `bulk-refresh-${i}-${randomBytes(4).toString('hex')}`,
        expiryTime: i,
      });
    }
    const source = await store.getTokens();
    await store.close();

    // Node itself (not the tsx wrapper), so the signals reach the CLI as they do in production.
    // --no-bulk: one save per token, the path of stores without bulk insert (the bulk path stops
    // between two transactions of 1,000 tokens instead).
    const running = startCli(['migrate', '--from', from, '--to', to, '--no-bulk'], { direct: true, timeoutMs: 30_000 });
    await running.waitFor(/copied: 200\/2000/);
    // Freeze it, queue Ctrl-C, resume: the copy stops at its next pause, far before the end.
    process.kill(running.child.pid ?? 0, 'SIGSTOP');
    process.kill(running.child.pid ?? 0, 'SIGINT');
    process.kill(running.child.pid ?? 0, 'SIGCONT');
    const interrupted = await running.result;
    expect(interrupted.code).toBe(130);
    const match = /Interrupted: (\d+) of 2000 tokens copied \((\d+) new .*\); every saved token is complete\./.exec(interrupted.stdout);
    expect(match).not.toBeNull();
    const copied = Number(match?.[1]);
    expect(copied).toBeGreaterThanOrEqual(200);
    expect(copied).toBeLessThan(total);
    expect(interrupted.stdout).toContain('Run the same command again to finish');
    expect(interrupted.stderr).toContain('Stopping after the current token');

    // Exactly the tokens it said, each complete.
    const partial = await contents(to);
    expect(partial).toHaveLength(copied);
    for (const token of partial) expect(source.some((s) => sameTokenContent(s, token) && s.id === token.id)).toBe(true);

    const finish = await runCli(['migrate', '--from', from, '--to', to], { timeoutMs: 30_000 });
    expect(finish.code).toBe(0);
    expect(finish.stdout).toContain(`✓ Copied 2000 tokens: ${total - copied} new (0 with a new id), 0 updated, ${copied} already there`);
    expect(finish.stdout).toContain('✓ Verified: all 2000 source tokens are in the target, which now holds 2000 tokens');
  });
});

describe('ztoken migrate --dry-run and the bulk path', () => {
  test.concurrent('--dry-run reports new, updated and unchanged tokens by id, redacted, and writes nothing', async () => {
    const from = `sqlite:${join(temp.dir, 'dry-source.db')}`;
    const toPath = join(temp.dir, 'dry-target.db');
    const to = `sqlite:${toPath}`;
    const source = await seed(from, sourceTokens(4)); // ids 1..6
    // The target holds user1 with stale values (id 1), user2 exactly as in the source (id 2), and
    // someone else at id 3 (so the source's token 3 needs a new id).
    const user2 = source.find((t) => t.userName === 'user2@zylker.com') as StoredToken;
    await seed(to, [
      {
        userName: 'user1@zylker.com',
        clientId: CLIENT_ID,
        clientSecret: secret('client', 98),
        refreshToken: secret('stale', 9),
        expiryTime: 1,
      },
      { ...user2, id: undefined },
      { userName: 'other@zylker.com', refreshToken: secret('other', 9) },
    ]);
    const before = await contents(to);

    const dry = await runCli(['migrate', '--from', from, '--to', to, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`Dry run: migrating 6 tokens from ${from} to ${to}`);
    expect(dry.stdout).toContain(`Would copy 6 tokens: 4 new (1 with a new id), 1 updated, 1 already there; ${to} would hold 7 tokens.`);
    expect(dry.stdout).toContain(
      '  updated  token 1 (user1@zylker.com) from source token 1 (user1@zylker.com): clientSecret, refreshToken, accessToken, grantToken, expiryTime, redirectUrl, apiDomain',
    );
    expect(dry.stdout).toContain('  new      token 4 (user4@zylker.com) from source token 4 (user4@zylker.com)');
    expect(dry.stdout).toMatch(
      / {2}new {6}token 7 \(user3@zylker\.com\) from source token 3 \(user3@zylker\.com\) \(id 3 is taken in the target\)/,
    );
    expect(dry.stdout).not.toContain('token 2 (user2');
    expect(dry.stdout).toContain('Dry run: nothing was written.');
    expect(await contents(to)).toEqual(before);

    // What it announced is what the real run does.
    const real = await runCli(['migrate', '--from', from, '--to', to]);
    expect(real.stdout).toContain('✓ Copied 6 tokens: 4 new (1 with a new id), 1 updated, 1 already there');
    expect(real.stdout).toContain('which now holds 7 tokens');
    expect((await contents(to)).find((t) => t.userName === 'user3@zylker.com')?.id).toBe('7');

    // Into a store that does not exist: everything is new, and nothing is created.
    const missing = join(temp.dir, 'dry-missing.db');
    const none = await runCli(['migrate', '--from', from, '--to', `sqlite:${missing}`, '--dry-run']);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('Would copy 6 tokens: 6 new (0 with a new id), 0 updated, 0 already there');
    expect(none.stdout).toContain('the target does not exist yet; nothing was created');
    const { existsSync } = await import('node:fs');
    expect(existsSync(missing)).toBe(false);
  });
});

/** Migrates `from` into `bulkUrl` (empty: the bulk path) and into `oneByOneUrl` with --no-bulk; both must hold the same rows. */
async function expectBulkLikeOneByOne(from: string, bulkUrl: string, oneByOneUrl: string): Promise<void> {
  const [bulk, oneByOne] = [
    await runCli(['migrate', '--from', from, '--to', bulkUrl], { timeoutMs: 60_000 }),
    await runCli(['migrate', '--from', from, '--to', oneByOneUrl, '--no-bulk'], { timeoutMs: 60_000 }),
  ];
  expect(bulk.code).toBe(0);
  expect(oneByOne.code).toBe(0);
  const summary = (text: string) => /✓ Copied .*/.exec(text)?.[0];
  expect(summary(bulk.stdout)).toBe(summary(oneByOne.stdout));
  expect(bulk.stdout).toContain('✓ Verified: all');
  const [a, b] = [await contents(bulkUrl), await contents(oneByOneUrl)];
  expect(a.length).toBeGreaterThan(0);
  expect(a).toEqual(b);
  // A rerun into the bulk-filled store recognises every token.
  const rerun = await runCli(['migrate', '--from', from, '--to', bulkUrl]);
  expect(rerun.stdout).toMatch(/0 new \(0 with a new id\), 0 updated, \d+ already there/);
}

test.concurrent('the bulk path into an empty SQLite store gives the same rows as one save per token', async () => {
  const from = `sqlite:${join(temp.dir, 'bulk-source.db')}`;
  const store = new SQLiteStore({ path: join(temp.dir, 'bulk-source.db') });
  // 2,500 tokens (three transactions) with ids that are not 1..n, beside the usual rule kinds.
  await seed(from, sourceTokens(3));
  for (let i = 0; i < 2_500; i++) {
    await store.saveToken({
      id: String(100 + 3 * i),
      userName: `bulk${i}@zylker.com`,
      clientId: CLIENT_ID,
      refreshToken: secret('bulk', i),
      expiryTime: i,
    });
  }
  await store.close();
  await expectBulkLikeOneByOne(from, `sqlite:${join(temp.dir, 'bulk-a.db')}`, `sqlite:${join(temp.dir, 'bulk-b.db')}`);
});

test.concurrent('bulkInsert writes nothing unless the store holds exactly the tokens the caller expects', async () => {
  const store = new SQLiteStore({ path: join(temp.dir, 'bulk-guard.db') });
  try {
    const token = (i: number): StoredToken => ({ id: String(i), userName: `guard${i}@zylker.com`, refreshToken: secret('guard', i) });
    expect(await store.bulkInsert([token(1), token(2)], 1)).toBe(false); // it holds 0
    expect(await store.getTokens()).toEqual([]);
    expect(await store.bulkInsert([token(1), token(2)], 0)).toBe(true);
    expect(await store.bulkInsert([token(3)], 0)).toBe(false); // it holds 2 now
    expect(await store.bulkInsert([token(3)], 2)).toBe(true);
    // A duplicate id fails the whole transaction: nothing of it is written.
    await expect(store.bulkInsert([token(4), token(3)], 3)).rejects.toThrow(/bulkInsert - SQLiteStore/);
    expect((await store.getTokens()).map((t) => t.id)).toEqual(['1', '2', '3']);
  } finally {
    await store.close();
  }
});

// Every other store that exists in this tree (others are writing them) and whose service runs.
const others: { name: string; url: () => string; cleanup: (url: string) => Promise<void>; enabled: boolean }[] = [
  {
    name: 'file',
    url: () => `file:${join(temp.dir, `${uniqueName('tokens')}.txt`)}`,
    cleanup: async () => undefined,
    enabled: storeExists('file'),
  },
  {
    name: 'mysql',
    url: () => `${MYSQL_URL}?table=${uniqueName('ztcli')}`,
    cleanup: async (url) => {
      const { dropMySqlTable } = await import('../stores/helpers/sql-admin.js');
      await dropMySqlTable(new URL(url).searchParams.get('table') ?? '');
    },
    enabled: storeExists('mysql') && (await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL')),
  },
  {
    name: 'postgres',
    url: () => `${POSTGRES_URL}?table=${uniqueName('ztcli')}`,
    cleanup: async (url) => {
      const { dropPostgresTable } = await import('../stores/helpers/sql-admin.js');
      await dropPostgresTable(new URL(url).searchParams.get('table') ?? '');
    },
    enabled: storeExists('postgres') && (await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL')),
  },
  {
    name: 'redis',
    url: () => `${REDIS_URL}/0?prefix=${uniqueName('ztcli')}:`,
    cleanup: async (url) => {
      const { adminClient, deletePrefix } = await import('../stores/helpers/redis-keys.js');
      const admin = adminClient();
      try {
        await deletePrefix(admin, new URL(url).searchParams.get('prefix') ?? 'never-empty');
      } finally {
        await admin.quit();
      }
    },
    enabled: storeExists('redis') && (await serviceAvailable('Redis', REDIS_URL, 'ZTOKEN_REDIS_URL')),
  },
];

describe.concurrent.each(others.filter((o) => o.enabled))('ztoken migrate with the $name store', (other) => {
  test('SQLite -> it -> memory:, a rerun adds nothing, and verify passes on it', async () => {
    const from = `sqlite:${join(temp.dir, `${uniqueName(other.name)}.db`)}`;
    const url = other.url();
    try {
      const source = await seed(from, sourceTokens(3));
      const [first, verify] = [await runCli(['migrate', '--from', from, '--to', url]), await runCli(['verify', '--store', url])];
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('✓ Copied 5 tokens: 5 new (0 with a new id), 0 updated, 0 already there');
      expect(first.stdout).toContain('which now holds 5 tokens');
      expectAllCopied(source, await contents(url));
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(/✓ delete it\n/);

      const [rerun, back] = await Promise.all([
        runCli(['migrate', '--from', from, '--to', url]),
        runCli(['migrate', '--from', url, '--to', 'memory:']),
      ]);
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toContain('0 new (0 with a new id), 0 updated, 5 already there');
      expect(back.code).toBe(0);
      expect(back.stdout).toContain('✓ Verified: all 5 source tokens are in the target, which now holds 5 tokens');
      expect(await contents(url)).toHaveLength(5);
    } finally {
      await other.cleanup(url);
    }
  });

  test.runIf(other.name === 'mysql' || other.name === 'postgres')(
    'the bulk path gives the same rows as one save per token',
    async () => {
      const from = `sqlite:${join(temp.dir, `${uniqueName(other.name)}.db`)}`;
      const [bulkUrl, oneByOneUrl] = [other.url(), other.url()];
      try {
        await seed(from, sourceTokens(300));
        await expectBulkLikeOneByOne(from, bulkUrl, oneByOneUrl);
      } finally {
        await other.cleanup(bulkUrl);
        await other.cleanup(oneByOneUrl);
      }
    },
    120_000,
  );
});

describe('ztoken migrate output', () => {
  test('no command printed a secret whole', () => {
    expectNoSecrets(outputs, secrets);
  });
});
