/**
 * The key commands end to end: `ztoken keygen` (the key line, --id, --out with mode 0600 and no
 * overwrite), `ztoken rotate-key` (plaintext -> k1 -> k2, counts, rerun, a store URL without
 * ?encrypt=1, missing, loose, wrong and unknown keys changing nothing), --key-file /
 * ZTOKEN_KEY_FILE on the other commands, and `migrate` into an encrypted store encrypting while it
 * copies. No output may show a stored secret or a key whole (keygen's own key line aside).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import { type EncryptionKey, parseKeyText } from '../../src/crypto/keys.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { type OAuthToken, SECRET_FIELDS, type StoredToken } from '../../src/token.js';
import { expectNoSecrets, outputs, runCli, tempDir } from './helpers.js';

const temp = tempDir('ztoken-keys');
afterAll(() => temp.remove());

/** Secrets no output may show: stored token values and every key but the one keygen printed. */
const secrets = new Set<string>();
const KEY_LINE = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/]{43}=)$/;

function secret(kind: string, i: number): string {
  const value = `${kind}-KEYTEST-${i}-${randomBytes(8).toString('hex')}`;
  secrets.add(value);
  return value;
}

function tokens(n: number): OAuthToken[] {
  return Array.from({ length: n }, (_, i) => ({
    userName: `user${i + 1}@zylker.com`,
    clientId: '1000.KEYTESTCLIENT',
    clientSecret: secret('client', i),
    refreshToken: secret('refresh', i),
    accessToken: secret('access', i),
    grantToken: secret('grant', i),
    expiryTime: Date.now() + 3_600_000,
    apiDomain: 'https://www.zohoapis.eu',
  }));
}

function newKey(id: string): EncryptionKey & { key: Buffer; line: string } {
  const key = randomBytes(32);
  secrets.add(key.toString('base64'));
  return { id, key, line: `${id}:${key.toString('base64')}` };
}

function keyFile(name: string, keys: { line: string }[], mode = 0o600): string {
  const path = join(temp.dir, name);
  writeFileSync(path, `# ztoken keys\n${keys.map((k) => k.line).join('\n')}\n`, { mode });
  chmodSync(path, mode);
  return path;
}

/** The rows as stored (no decryption): what a stolen copy of the file shows. */
async function raw(path: string): Promise<StoredToken[]> {
  const store = new SQLiteStore({ path });
  try {
    return await store.getTokens();
  } finally {
    await store.close();
  }
}

async function seed(path: string, list: OAuthToken[], keys?: EncryptionKey[]): Promise<void> {
  const inner = new SQLiteStore({ path });
  const store = keys ? new EncryptedStore(inner, { keys }) : inner;
  try {
    for (const token of list) await store.saveToken(token);
  } finally {
    await store.close();
  }
}

/** Every secret value of every row is encrypted under `keyId`. */
function expectAllUnder(rows: StoredToken[], keyId: string): void {
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) for (const field of SECRET_FIELDS) expect(row[field]).toMatch(new RegExp(`^zt2:${keyId}:[A-Za-z0-9_-]+$`));
  const text = JSON.stringify(rows);
  for (const s of secrets) expect(text).not.toContain(s);
}

describe('ztoken keygen', () => {
  test('prints one key line on stdout, honours --id, and refuses a bad id', async () => {
    const [a, b, named, bad, help] = await Promise.all([
      runCli(['keygen']),
      runCli(['keygen']),
      runCli(['keygen', '--id', 'k7']),
      runCli(['keygen', '--id', 'not a key id']),
      runCli(['keygen', '--help']),
    ]);
    for (const result of [a, b, named]) {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      const match = KEY_LINE.exec(result.stdout.trimEnd());
      expect(match).not.toBeNull();
      expect(Buffer.from(match?.[2] ?? '', 'base64')).toHaveLength(32);
      // The line is exactly what ZTOKEN_KEYS and key files read.
      expect(parseKeyText(result.stdout, 'keygen output')[0]?.key).toEqual(Buffer.from(match?.[2] ?? '', 'base64'));
    }
    expect(a.stdout).not.toBe(b.stdout);
    expect(a.stdout).toMatch(/^k\d{8}-[0-9a-f]{4}:/);
    expect(named.stdout).toMatch(/^k7:/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('ztoken: error: --id "not a key id" is not a key id: use 1 to 32 characters of A-Z a-z 0-9 _ -');
    expect(bad.stdout).toBe('');
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('the one command that prints a secret');
    expect(help.stdout).toContain('--out <file>');
  });

  test('--out writes a new file of mode 0600 without printing the key, and never overwrites one', async () => {
    const path = join(temp.dir, 'out.keys');
    const first = await runCli(['keygen', '--id', 'k1', '--out', path]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`✓ Wrote key "k1" to ${path} (mode 0600)`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const content = readFileSync(path, 'utf8');
    expect(content).toMatch(/^k1:[A-Za-z0-9+/]{43}=\n$/);
    const key = content.trim().slice(3);
    expect(first.stdout + first.stderr).not.toContain(key);

    const again = await runCli(['keygen', '--out', path]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${path} already exists: keygen --out never overwrites a file`);
    expect(readFileSync(path, 'utf8')).toBe(content);
    const noDir = await runCli(['keygen', '--out', join(temp.dir, 'missing-dir', 'k.keys')]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain('Cannot create the key file');
    secrets.add(key); // from here on no output may show it
  });
});

describe('ztoken rotate-key', () => {
  test('encrypts plaintext tokens, then moves them to a new key; reruns rotate nothing', async () => {
    const path = join(temp.dir, 'rotate.db');
    const url = `sqlite:${path}`;
    const list = tokens(3);
    await seed(path, list);
    const k1 = newKey('k1');
    const k2 = newKey('k2');
    const k1File = keyFile('k1.keys', [k1]);
    const bothFile = keyFile('both.keys', [k1, k2]);

    const plainUrl = await runCli(['rotate-key', '--store', url, '--key-file', k1File]);
    expect(plainUrl.code).toBe(2);
    expect(plainUrl.stderr).toContain(`rotate-key needs an encrypted store: ${url} has no ?encrypt=1`);
    expect(plainUrl.stderr).toContain('Add ?encrypt=1 to the store URL');
    const defaultStore = await runCli(['rotate-key'], { cwd: temp.dir });
    expect(defaultStore.code).toBe(2);
    expect(defaultStore.stderr).toContain('sqlite:./zohooauth.db has no ?encrypt=1');

    const first = await runCli(['rotate-key', '--store', `${url}?encrypt=1`, '--key-file', k1File]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Keys: k1 (new writes use k1)');
    expect(first.stdout).toContain('Before: 3 in plaintext');
    expect(first.stdout).toContain(`✓ Rotated 3 of 3 tokens to key k1 in ${url}?encrypt=1`);
    expect(first.stdout).toContain('After: 3 under key k1');
    expectAllUnder(await raw(path), 'k1');

    const rerun = await runCli(['rotate-key', '--store', `${url}?encrypt=1`], { env: { ZTOKEN_KEYS: k1.line } });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('✓ Rotated 0 of 3 tokens to key k1');

    // ZTOKEN_KEY_FILE: k1 then k2, so new writes (and the rotation) use k2.
    const second = await runCli(['rotate-key', '--store', `${url}?encrypt=true`], { env: { ZTOKEN_KEY_FILE: bothFile } });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Keys: k1, k2 (new writes use k2)');
    expect(second.stdout).toContain('Before: 3 under key k1');
    expect(second.stdout).toContain('✓ Rotated 3 of 3 tokens to key k2');
    expect(second.stdout).toContain('Keys other than k2 can now be removed from the key list');
    const rows = await raw(path);
    expectAllUnder(rows, 'k2');

    // The tokens read back whole with the new key alone.
    const reader = new EncryptedStore(new SQLiteStore({ path }), { keys: [k2] });
    const back = await reader.getTokens();
    await reader.close();
    expect(back.map(({ id: _id, ...rest }) => rest)).toEqual(list);

    // The other commands read the store with the key file (flag or env) or ZTOKEN_KEYS.
    const [list1, list2, show] = await Promise.all([
      runCli(['list', '--json', '--store', `${url}?encrypt=1`, '--key-file', bothFile]),
      runCli(['list', '--store', `${url}?encrypt=1`], { env: { ZTOKEN_KEYS: k2.line } }),
      runCli(['show', '1', '--store', `${url}?encrypt=1`], { env: { ZTOKEN_KEY_FILE: bothFile } }),
    ]);
    expect(list1.code).toBe(0);
    const json = JSON.parse(list1.stdout) as { userName: string; refreshToken: string }[];
    expect(json.map((t) => t.userName)).toEqual(['user1@zylker.com', 'user2@zylker.com', 'user3@zylker.com']);
    expect(json[0]?.refreshToken).toMatch(/^refresh-…\(\d+ chars\)$/);
    expect(list2.code).toBe(0);
    expect(list2.stdout).toContain('3 tokens in');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('user1@zylker.com');
  });

  test('a missing, loose, wrong or unknown key is a clear error that changes nothing', async () => {
    const path = join(temp.dir, 'wrong.db');
    const url = `sqlite:${path}?encrypt=1`;
    const k1 = newKey('k1');
    const k2 = newKey('k2');
    const k3 = newKey('k3');
    const list = tokens(3);
    await seed(path, list.slice(0, 2), [k1]); // ids 1, 2 under k1
    await seed(path, list.slice(2), [k3]); // id 3 under k3
    const before = JSON.stringify(await raw(path));

    const wrongK1 = { id: 'k1', line: `k1:${randomBytes(32).toString('base64')}` };
    secrets.add(wrongK1.line.slice(3));
    const [noKeys, loose, wrong, unknown, noFile] = await Promise.all([
      runCli(['rotate-key', '--store', url]),
      runCli(['rotate-key', '--store', url, '--key-file', keyFile('loose.keys', [k1, k2], 0o644)]),
      runCli(['rotate-key', '--store', url, '--key-file', keyFile('wrong.keys', [wrongK1, k2])]),
      // id 1 reads (k1) but id 3 needs k3: the read of every token fails before any rewrite.
      runCli(['rotate-key', '--store', url], { env: { ZTOKEN_KEYS: `${k1.line},${k2.line}` } }),
      runCli(['rotate-key', '--store', url, '--key-file', join(temp.dir, 'no-such.keys')]),
    ]);
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toContain('ZTOKEN_KEYS is not set');
    expect(noKeys.stderr).toContain('Keys come from --key-file PATH / ZTOKEN_KEY_FILE');
    expect(loose.code).toBe(2);
    expect(loose.stderr).toMatch(/loose\.keys has mode 0644: it must not be accessible to group or others/);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('authentication failed with key "k1" (a wrong key, or the stored value was altered)');
    expect(wrong.stderr).toContain('Keys come from --key-file PATH');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Nothing was rotated: Cannot decrypt');
    expect(unknown.stderr).toContain('of token id 3: it was encrypted with key "k3", which is not configured (configured: k1, k2)');
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain('Cannot read key file');
    expect(JSON.stringify(await raw(path))).toBe(before);

    // With every key configured it goes through.
    const all = await runCli(['rotate-key', '--store', url], { env: { ZTOKEN_KEYS: `${k3.line},${k1.line},${k2.line}` } });
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('Before: 2 under key k1, 1 under key k3');
    expect(all.stdout).toContain('✓ Rotated 3 of 3 tokens to key k2');
    expectAllUnder(await raw(path), 'k2');
  });
});

describe('migrate with encryption', () => {
  test('migrating into a ?encrypt=1 store encrypts every token as it is copied; back out decrypts', async () => {
    const plain = join(temp.dir, 'plain.db');
    const encrypted = join(temp.dir, 'encrypted.db');
    const list = tokens(4);
    await seed(plain, list);
    const k1 = newKey('k1');
    const file = keyFile('migrate.keys', [k1]);

    const into = await runCli(['migrate', '--from', `sqlite:${plain}`, '--to', `sqlite:${encrypted}?encrypt=1`, '--key-file', file]);
    expect(into.code).toBe(0);
    expect(into.stdout).toContain('✓ Copied 4 tokens: 4 new (0 with a new id), 0 updated, 0 already there');
    expect(into.stdout).toContain('✓ Verified: all 4 source tokens are in the target, which now holds 4 tokens');
    expectAllUnder(await raw(encrypted), 'k1');

    const [rerun, out] = await Promise.all([
      runCli(['migrate', '--from', `sqlite:${plain}`, '--to', `sqlite:${encrypted}?encrypt=1`], { env: { ZTOKEN_KEY_FILE: file } }),
      runCli(['migrate', '--from', `sqlite:${encrypted}?encrypt=1`, '--to', 'memory:', '--key-file', file]),
    ]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('4 already there');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('✓ Verified: all 4 source tokens are in the target');
    const reader = new EncryptedStore(new SQLiteStore({ path: encrypted }), { keys: [k1] });
    const back = await reader.getTokens();
    await reader.close();
    expect(back.map(({ id: _id, ...rest }) => rest)).toEqual(list);
  });
});

describe('secrets', () => {
  test('no output showed a stored secret or a key whole', () => {
    expect(outputs.length).toBeGreaterThan(15);
    expectNoSecrets(outputs, secrets);
  });
});
