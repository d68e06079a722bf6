/**
 * `ztoken login --client-credentials` against the emulator: the self-client grant gives an access
 * token and no refresh token, stored with its grant and shown as a client-credentials token; a
 * malformed --soid is a usage error, and a client the emulator refuses stores nothing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { expectNoSecrets, outputs, runCli, storedTokensOf, tempDir } from './helpers.js';

const CLIENT_ID = `1000.SELFCLIENT${randomBytes(6).toString('hex').toUpperCase()}`;
const CLIENT_SECRET = `self-client-test-secret-${randomBytes(12).toString('hex')}`;
const SCOPES = 'ZohoCRM.modules.ALL,ZohoCRM.users.READ';
const temp = tempDir('ztoken-login-cc');
const secrets = new Set<string>([CLIENT_SECRET]);
let emulator: Emulator;
let env: Record<string, string>;

beforeAll(async () => {
  emulator = await startEmulator({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] });
  env = { ZOHO_CLIENT_ID: CLIENT_ID, ZOHO_CLIENT_SECRET: CLIENT_SECRET, ZOHO_ACCOUNTS_URL: emulator.url };
});

afterAll(async () => {
  await emulator?.close();
  temp.remove();
});

const storedTokens = (db: string) => storedTokensOf(db, secrets);

describe('login --client-credentials', () => {
  test('gets an access token with no refresh token, stores it with its grant, and uses it on a second run', async () => {
    const db = join(temp.dir, 'cc.db');
    const args = ['login', '--client-credentials', '--soid', 'ZohoCRM.10234567', '--scopes', SCOPES, '--store', `sqlite:${db}`];
    const first = await runCli(args, { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/✓ Saved token \d+ \(alice@zylker\.com:700123456\) in sqlite:/);
    expect(first.stdout).toContain('  kind          client-credentials\n');
    expect(first.stdout).toMatch(/ {2}access token {2}1000\.[0-9a-f]{3}…\(70 chars\), valid 5\dm/);
    expect(first.stdout).toContain('  refresh token none: a new access token comes from the same grant (ZohoCRM.10234567) on expiry\n');
    expect(emulator.counters.clientCredentialsGrants).toBe(1);

    const [token, ...others] = await storedTokens(db);
    expect(others).toEqual([]);
    expect(token?.refreshToken ?? '').toBe('');
    expect(token?.accessToken).toMatch(/^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/);
    expect(token?.grantToken).toBe('client_credentials|ZohoCRM.10234567|ZohoCRM.modules.ALL ZohoCRM.users.READ');
    expect(token?.clientId).toBe(CLIENT_ID);
    expect(first.stdout).not.toContain(token?.accessToken ?? 'none');

    // The same grant again: the stored, still valid token is used; Zoho is not asked.
    const second = await runCli(args, { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`A token for ZohoCRM.10234567 with these scopes is already in sqlite:${db}.`);
    expect(second.stdout).toMatch(new RegExp(`✓ Using token ${token?.id} \\(alice@zylker\\.com:700123456\\)`));
    expect(emulator.counters.clientCredentialsGrants).toBe(1);

    const list = await runCli(['list', '--store', `sqlite:${db}`], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/alice@zylker\.com:700123456 .* client-credentials /);
  });

  test('a malformed or missing --soid is a usage error that names it; no store is created', async () => {
    const db = join(temp.dir, 'bad-soid.db');
    const bad = await runCli(['login', '--client-credentials', '--soid', '10234567', '--store', `sqlite:${db}`], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('ztoken: error: Invalid --soid or --scope: soid "10234567" is not of the form ZohoCRM.<org id>');
    expect(bad.stderr).toContain('For example: --soid ZohoCRM.10234567 --scope ZohoCRM.modules.ALL,ZohoCRM.users.READ');
    const missing = await runCli(['login', '--client-credentials', '--store', `sqlite:${db}`], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--client-credentials needs --soid ZohoCRM.<org id>');
    const stray = await runCli(['login', '--soid', 'ZohoCRM.1', '--store', `sqlite:${db}`], { env });
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('--soid goes with --client-credentials');
    expect(existsSync(db)).toBe(false);
    expect(emulator.counters.clientCredentialsGrants).toBe(1); // only the first test's
  });

  test('a client the emulator refuses (wrong secret) fails with invalid_client and stores nothing', async () => {
    const db = join(temp.dir, 'refused.db');
    const wrong = `wrong-client-secret-${randomBytes(8).toString('hex')}`;
    secrets.add(wrong);
    const refused = await runCli(['login', '--client-credentials', '--soid', 'ZohoCRM.10234567', '--store', `sqlite:${db}`], {
      env: { ...env, ZOHO_CLIENT_SECRET: wrong },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('invalid_client');
    expect(refused.stderr).toContain(CLIENT_ID);
    expect(await storedTokens(db)).toEqual([]);
  });

  test('no secret was printed whole', () => {
    expectNoSecrets(outputs, secrets);
  });
});
