/**
 * `ztoken login --device` against the emulator: the CLI prints the URL and code and polls (at
 * the emulator's 5 s interval, real time) while the test approves or denies the code.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { expectNoSecrets, outputs, startCli, tempDir } from './helpers.js';

const CLIENT_ID = `1000.DEVICETEST${randomBytes(6).toString('hex').toUpperCase()}`;
const CLIENT_SECRET = `device-test-client-secret-${randomBytes(12).toString('hex')}`;
const temp = tempDir('ztoken-login-device');
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

const CODE = /Code: ([0-9A-F]{8})/;

describe('login --device', () => {
  test('prints the URL and code, polls while the test approves, saves the token; a denied code fails', async () => {
    const db = join(temp.dir, 'device.db');
    const approved = startCli(['login', '--device', '--store', `sqlite:${db}`, '--user', 'bob-device'], { env });
    const approvedCode = CODE.exec(await approved.waitFor(CODE))?.[1] ?? '';
    emulator.device.approve(approvedCode, { userName: 'bob@zylker.com' });
    const denied = startCli(['login', '--device', '--store', `sqlite:${join(temp.dir, 'denied.db')}`], { env });
    const deniedCode = CODE.exec(await denied.waitFor(CODE))?.[1] ?? '';
    emulator.device.deny(deniedCode);

    const result = await approved.result;
    expect(result.stdout).toContain(`URL:  ${emulator.url}/oauth/v3/device`);
    expect(result.stdout).not.toMatch(/▄|█/); // no QR code: stdout is not a terminal
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/✓ Saved token \d+ \(bob-device\) in sqlite:/);
    expect(result.stdout).toMatch(/refresh token 1000\.[0-9a-f]{3}…\(70 chars\)/);
    const store = new SQLiteStore({ path: db });
    const [saved] = await store.getTokens();
    expect(saved?.userName).toBe('bob-device');
    expect(saved?.apiDomain).toBe(emulator.url);
    expect(result.stdout).not.toContain(saved?.refreshToken ?? 'none');
    await store.close();

    const refused = await denied.result;
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('denied the device login');
    expectNoSecrets(outputs, [CLIENT_SECRET]);
  }, 30_000);
});
