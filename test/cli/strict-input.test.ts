/**
 * No typo becomes a silent success (issue 14), the CLI spawned as a process: read commands refuse
 * a store that does not exist and create nothing, writes create it and say so; unknown URL
 * parameters and an empty --store are usage errors; an encrypted store opened without its keys
 * warns on reads and refuses refresh, revoke and writes; settings go before or after the command.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { openStore } from '../../src/stores/url.js';
import { sampleToken } from '../../src/testing/index.js';
import { secretsOf } from '../../src/token.js';
import { expectNoSecrets, outputs, runCli, tempDir } from './helpers.js';

const temp = tempDir('ztoken-strict14');
afterAll(() => temp.remove());
const at = (name: string) => join(temp.dir, name);

async function storeWithAlice(name: string): Promise<string> {
  const store = new SQLiteStore({ path: at(name) });
  await store.saveToken(sampleToken('alice@zylker.com'));
  await store.close();
  return `sqlite:${at(name)}`;
}

describe('a store that does not exist', () => {
  test.concurrent('list, show, verify and a migrate source refuse it, say how to create one, and create nothing', async () => {
    const missing = at('missing.db');
    const [list, show, verify, migrate] = await Promise.all([
      runCli(['list', '--store', `sqlite:${missing}`]),
      runCli(['show', '1', '--store', `sqlite:${missing}`]),
      runCli(['verify', '--store', `sqlite:${missing}`]),
      runCli(['migrate', '--from', `file:${at('nothere.txt')}`, '--to', `sqlite:${at('target.db')}`]),
    ]);
    for (const result of [list, show, migrate]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Nothing was created. A store is created by the first command that saves a token in it');
    }
    expect(list.stderr).toContain(`No SQLite database at ${missing}`);
    expect(list.stdout).not.toContain('No tokens');
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`✗ open the store: No token store at sqlite:${missing}`);
    expect(migrate.stderr).toContain(`No token file at ${at('nothere.txt')}`);
    expect(migrate.stdout).not.toContain('Copied');
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(at('nothere.txt'))).toBe(false);
    expect(existsSync(at('target.db'))).toBe(false);
  });

  test.concurrent('a table that does not exist is refused, not made', async () => {
    const url = await storeWithAlice('tables.db');
    const result = await runCli(['list', '--store', `${url}?table=other`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No table "other" in the SQLite database');
    // Still no such table: opening it without creating fails the same way.
    expect(() => new SQLiteStore({ path: at('tables.db'), table: 'other', create: false })).toThrow(/No table "other"/);
  });

  test.concurrent('a write command creates the store and says so', async () => {
    const from = await storeWithAlice('source.db');
    const to = `sqlite:${at('created.db')}`;
    const result = await runCli(['migrate', '--from', from, '--to', to]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`New token store ${to}: it did not exist, so it is created.`);
    expect(result.stdout).toContain('✓ Copied 1 token');
    const again = await runCli(['migrate', '--from', from, '--to', to]);
    expect(again.stderr).not.toContain('New token store');
  });
});

describe('store URLs', () => {
  test.concurrent('an unknown parameter is a usage error naming the valid ones, with a "did you mean"', async () => {
    const url = await storeWithAlice('typo.db');
    const [typo, pg] = await Promise.all([
      runCli(['list', '--store', `${url}?tabel=foo`]),
      runCli(['list', '--store', 'postgres://u@h/db?shema=x']),
    ]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(
      'Unknown parameter ?tabel= in the sqlite: store URL (did you mean ?table=?); sqlite: URLs take ?table= ?layout= ?busyTimeoutMs= ?encrypt=',
    );
    expect(typo.stdout).toBe('');
    expect(pg.code).toBe(2);
    expect(pg.stderr).toContain('(did you mean ?schema=?)');
  });

  test.concurrent('--store "" and an empty ZTOKEN_STORE are usage errors, not the default store', async () => {
    const [flag, env] = await Promise.all([
      runCli(['list', '--store', ''], { cwd: temp.dir }),
      runCli(['list'], { cwd: temp.dir, env: { ZTOKEN_STORE: '' } }),
    ]);
    for (const result of [flag, env]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('The store URL is empty (--store or ZTOKEN_STORE)');
    }
    expect(existsSync(at('zohooauth.db'))).toBe(false);
  });
});

describe('an encrypted store opened without its keys', () => {
  const key = randomBytes(32).toString('base64');
  const keys = `k1:${key}`;
  const token = sampleToken('alice@zylker.com', { clientId: '1000.ENC14CLIENT' });
  const secrets = new Set(secretsOf(token));
  let url = '';

  test('reads warn and name the fix; refresh, revoke and writes refuse, naming encryption and the keys', async () => {
    url = `sqlite:${at('enc.db')}`;
    const encrypted = await openStore(`${url}?encrypt=1`, { env: { ZTOKEN_KEYS: keys } });
    await encrypted.saveToken(token);
    await encrypted.close();

    const [show, list, refresh, revoke, migrateFrom, migrateTo, withKeys] = await Promise.all([
      runCli(['show', '1', '--store', url]),
      runCli(['list', '--store', url]),
      runCli(['refresh', '1', '--store', url]),
      runCli(['revoke', '1', '--store', url]),
      runCli(['migrate', '--from', url, '--to', 'memory:']),
      runCli(['migrate', '--from', await storeWithAlice('plain.db'), '--to', url]),
      runCli(['show', '1', '--store', `${url}?encrypt=1`], { env: { ZTOKEN_KEYS: keys } }),
    ]);
    for (const read of [show, list]) {
      expect(read.code).toBe(0);
      expect(read.stderr).toMatch(
        /warning: The store holds encrypted values in 1 token \(first: id 1, clientSecret, refreshToken, accessToken/,
      );
      expect(read.stderr).toContain('add ?encrypt=1 to the store URL');
      expect(read.stderr).toContain('--key-file PATH, ZTOKEN_KEY_FILE or ZTOKEN_KEYS');
    }
    for (const refused of [refresh, revoke, migrateFrom, migrateTo]) {
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('The store is encrypted (1 token');
      expect(refused.stderr).toContain('but was opened without ?encrypt=1');
      expect(refused.stderr).toContain('--key-file PATH');
    }
    expect(migrateTo.stdout).not.toContain('Copied');
    expect(withKeys.code).toBe(0);
    expect(withKeys.stderr).not.toContain('encrypted values');
    // Nothing was changed: still one token, still encrypted.
    const check = await openStore(`${url}?encrypt=1`, { env: { ZTOKEN_KEYS: keys } });
    expect((await check.getTokens()).map((t) => t.refreshToken)).toEqual([token.refreshToken]);
    await check.close();
  });

  afterAll(() => expectNoSecrets(outputs, secrets));
});

describe('settings before or after the command', () => {
  test.concurrent('--store and --debug work on either side; a setting the command does not take is refused', async () => {
    const url = await storeWithAlice('global.db');
    const [before, after, mixed, notTaken] = await Promise.all([
      runCli(['--store', url, 'list']),
      runCli(['list', '--store', url]),
      runCli(['--debug', '--store', url, 'show', '1', '--json']),
      runCli(['--store', url, 'keygen']),
    ]);
    for (const result of [before, after]) {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('alice@zylker.com');
      expect(result.stdout).toContain(`1 token in ${url}`);
    }
    expect(mixed.code).toBe(0);
    expect(JSON.parse(mixed.stdout).userName).toBe('alice@zylker.com');
    expect(notTaken.code).toBe(2);
    expect(notTaken.stderr).toContain('ztoken keygen takes no --store');
  });
});
