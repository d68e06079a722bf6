/**
 * The rest of the CLI end to end: usage errors and exit codes, error messages in plain words
 * (no stack trace unless --debug), verify, the emulator command, and login through the browser
 * flow (the test plays the browser by following the printed URL with fetch).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/program.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { secretsOf } from '../../src/token.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { expectNoSecrets, freePort, outputs, runCli, startCli, tempDir } from './helpers.js';

const CLIENT_ID = `1000.LOGINTEST${randomBytes(6).toString('hex').toUpperCase()}`;
const CLIENT_SECRET = `login-test-client-secret-${randomBytes(12).toString('hex')}`;
const DB_PASSWORD = `hunter2-db-password-${randomBytes(6).toString('hex')}`;
const STACK_LINE = /\n\s+at .+:\d+:\d+/;

const temp = tempDir('ztoken-commands');
const secrets = new Set<string>([CLIENT_SECRET, DB_PASSWORD, DEFAULT_CLIENT.clientSecret]);
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

/** Runs main() in this process, for the many --help texts (no child process needed to read them). */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'ztoken', ...args], {
    env: { NO_COLOR: '1' },
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('usage, help and exit codes', () => {
  test('every command has --help with examples; the program lists them all', async () => {
    const commands = [
      'demo',
      'login',
      'exchange',
      'list',
      'show',
      'refresh',
      'revoke',
      'delete',
      'purge',
      'migrate',
      'repair-ids',
      'verify',
      'emulator',
    ];
    const top = await inProcess(['--help']);
    expect(top.code).toBe(0);
    for (const name of commands) expect(top.stdout).toMatch(new RegExp(`\\n  ${name}\\b`));
    expect(top.stdout).toContain('Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.');
    for (const name of commands) {
      const help = await inProcess([name, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: ztoken ${name}`);
      expect(help.stdout).toMatch(/Examples:\n {2}\$ .*ztoken /);
    }
    // Help is wrapped at the terminal width: compare with the line breaks folded.
    const flat = (text: string) => text.replace(/\s+/g, ' ');
    const list = flat((await inProcess(['list', '--help'])).stdout);
    expect(list).toMatch(/--store <url> token store URL [^)]*\) \(default: "sqlite:\.\/zohooauth\.db", env: ZTOKEN_STORE\)/);
    const exchange = flat((await inProcess(['exchange', '--help'])).stdout);
    expect(exchange).toMatch(/--client-id <id> [^(]*\(from the API console\) \(env: ZOHO_CLIENT_ID\)/);
    expect(exchange).toMatch(/--dc <code> [^)]*\) \(env: ZOHO_DC\)/);
    expect(exchange).toMatch(/--accounts-url <url> [^)]*\) \(env: ZOHO_ACCOUNTS_URL\)/);
    expect((await inProcess(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('usage errors exit 2, failures exit 1, with plain words and no stack trace unless --debug', async () => {
    const closed = await freePort();
    const db = join(temp.dir, 'errors.db');
    const [
      unknownCommand,
      typo,
      unknownOption,
      nothing,
      badScheme,
      badSchemeEnv,
      badDc,
      missingStore,
      missingStoreDebug,
      postgresDown,
      mysqlDown,
      loginNoClient,
    ] = await Promise.all([
      runCli(['bogus']),
      runCli(['lisst']),
      runCli(['list', '--bogus']),
      runCli([]),
      runCli(['list', '--store', 'foo:bar']),
      runCli(['list'], { env: { ZTOKEN_STORE: 'mongodb://localhost/x' } }),
      runCli(['exchange', '--grant-token', 'abcdefgh', '--dc', 'XX', '--store', `sqlite:${db}`], { env }),
      runCli(['list', '--store', 'sqlite:/nonexistent-dir/zohooauth.db']),
      runCli(['list', '--store', 'sqlite:/nonexistent-dir/zohooauth.db', '--debug']),
      runCli(['list', '--store', `postgres://postgres@127.0.0.1:${closed}/test`]),
      runCli(['list', '--store', `mysql://root:${DB_PASSWORD}@127.0.0.1:${closed}/zohooauth`]),
      runCli(['login', '--no-open']),
    ]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("error: unknown command 'bogus'");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/\(Did you mean .*list.*\?\)/);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("error: unknown option '--bogus'");
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('Usage: ztoken [options] [command]');

    expect(badScheme.code).toBe(2);
    expect(badScheme.stderr).toContain(
      'Unknown store "foo:bar": supported schemes are sqlite: file: mysql: postgres: postgresql: redis: rediss: redis+cluster: rediss+cluster: memory:',
    );
    expect(badSchemeEnv.code).toBe(2);
    expect(badSchemeEnv.stderr).toContain('supported schemes are sqlite:');
    expect(badDc.code).toBe(2);
    expect(badDc.stderr).toContain('Unknown Zoho data center "XX": expected one of US, EU, IN, CN, JP, AU, CA, SA (from --dc or ZOHO_DC)');

    expect(missingStore.code).toBe(1);
    // A read command does not create a store: it names the missing file and how to make one.
    expect(missingStore.stderr).toContain('No SQLite database at /nonexistent-dir/zohooauth.db');
    expect(missingStoreDebug.code).toBe(1);
    expect(missingStoreDebug.stderr).toMatch(STACK_LINE);
    expect(postgresDown.code).toBe(1);
    expect(postgresDown.stderr).toContain(`127.0.0.1:${closed}`);
    expect(mysqlDown.code).toBe(1);
    expect(mysqlDown.stderr).toContain(`mysql://root:***@127.0.0.1:${closed}/zohooauth`);
    // In the user's words: the store and where, not a method the user never called.
    for (const down of [postgresDown, mysqlDown]) expect(down.stderr).not.toContain('Exception in');
    expect(mysqlDown.stderr).toContain(`DBStore (MySQL 127.0.0.1:${closed}/zohooauth, table oauthtoken): connect ECONNREFUSED`);

    expect(loginNoClient.code).toBe(2);
    expect(loginNoClient.stderr).toContain('Missing the Zoho client id: pass --client-id or set ZOHO_CLIENT_ID');

    for (const result of [unknownCommand, badScheme, badDc, missingStore, postgresDown, mysqlDown, loginNoClient]) {
      expect(result.stderr).not.toMatch(STACK_LINE);
      expect(result.stdout).toBe('');
    }
  });
});

describe('verify', () => {
  test('says what works with ✓ and exits 0; an unreachable store gets ✗ and exit 1', async () => {
    await new SQLiteStore({ path: join(temp.dir, 'verify.db') }).close();
    const [sqlite, memory, broken] = await Promise.all([
      runCli(['verify', '--store', `sqlite:${join(temp.dir, 'verify.db')}`]),
      runCli(['verify'], { env: { ZTOKEN_STORE: 'memory:' } }),
      runCli(['verify', '--store', 'sqlite:/nonexistent-dir/verify.db']),
    ]);
    expect(sqlite.code).toBe(0);
    expect(sqlite.stdout).toMatch(
      /✓ open the store\n✓ write a sentinel token \(id 1\)\n✓ read it back by user name\n✓ read it back by id\n✓ delete it\n✓ take and release the lock \(\d+ ms\)\n/,
    );
    expect(sqlite.stdout).toContain(`sqlite:${join(temp.dir, 'verify.db')} works.`);
    const left = new SQLiteStore({ path: join(temp.dir, 'verify.db') });
    expect(await left.getTokens()).toEqual([]); // the sentinel is gone
    await left.close();
    expect(memory.code).toBe(0);
    expect(memory.stdout).toContain('memory: works.');
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(
      '✗ open the store: No token store at sqlite:/nonexistent-dir/verify.db: No SQLite database at /nonexistent-dir/verify.db',
    );
  });
});

describe('emulator command', () => {
  test('serves until SIGTERM, shows the client with its secret redacted; a taken port fails', async () => {
    const running = startCli(['emulator', '--port', '0'], { direct: true });
    const text = await running.waitFor(/Press Ctrl-C to stop\./);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1] ?? '';
    expect(url).not.toBe('');
    const state = (await (await fetch(`${url}/__emulator/state`)).json()) as { url: string; counters: { tokenRequests: number } };
    expect(state.url).toBe(url);
    expect(text).toContain(`client id        ${DEFAULT_CLIENT.clientId}`);
    expect(text).toMatch(/client secret {4}emulator…\(42 chars\) {3}\(--show-secret prints it\)/);
    expect(text).toContain('POST /__emulator/grant?user=EMAIL');
    running.child.kill('SIGTERM');
    const stopped = await running.result;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('Emulator stopped (SIGTERM).');
    await expect(fetch(`${url}/__emulator/state`)).rejects.toThrow();

    const taken = await runCli(['emulator', '--port', String(emulator.port)]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`cannot listen on 127.0.0.1:${emulator.port}: EADDRINUSE`);
  });
});

describe('login', () => {
  const authUrl = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/v2\/auth\?\S+)/;

  test('prints the sign-in URL; following it signs in, checks state, exchanges the code and saves', async () => {
    const db = join(temp.dir, 'login.db');
    const port = await freePort();
    const [alice, bob] = [
      startCli(['login', '--no-open', '--store', `sqlite:${db}`, '--port', '0'], { env }),
      startCli(
        [
          'login',
          '--no-open',
          '--store',
          `sqlite:${db}`,
          '--port',
          String(port),
          '--login-hint',
          'bob@zylker.com',
          '--user',
          'bob-custom',
          '--scope',
          'ZohoCRM.modules.leads.READ',
        ],
        { env },
      ),
    ];
    for (const [running, user, expectedPort] of [
      [alice, 'alice@zylker.com:700123456', null],
      [bob, 'bob-custom', port],
    ] as const) {
      const link = new URL(authUrl.exec(await running.waitFor(authUrl))?.[1] ?? '');
      const q = link.searchParams;
      expect(link.origin).toBe(emulator.url);
      expect(q.get('client_id')).toBe(CLIENT_ID);
      expect(q.get('response_type')).toBe('code');
      expect(q.get('access_type')).toBe('offline');
      expect(q.get('prompt')).toBe('consent');
      expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(q.get('scope')).toBe(expectedPort ? 'ZohoCRM.modules.leads.READ' : 'ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ');
      const redirect = new URL(q.get('redirect_uri') ?? '');
      expect(redirect.hostname).toBe('127.0.0.1');
      expect(redirect.pathname).toBe('/callback');
      if (expectedPort) expect(redirect.port).toBe(String(expectedPort));

      const page = await fetch(link); // the emulator consents at once and redirects to the callback
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Signed in');
      const result = await running.result;
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`✓ Saved token \\d+ \\(${user.replace(/\./g, '\\.')}\\) in sqlite:`));
      expect(result.stdout).toMatch(/refresh token 1000\.[0-9a-f]{3}…\(70 chars\)/);
    }
    const store = new SQLiteStore({ path: db });
    const saved = await store.getTokens();
    await store.close();
    for (const token of saved) for (const s of secretsOf(token)) secrets.add(s);
    expect(saved.map((t) => t.userName).sort()).toEqual(['alice@zylker.com:700123456', 'bob-custom']);
    expect(saved.find((t) => t.userName === 'bob-custom')?.redirectUrl).toBe(`http://127.0.0.1:${port}/callback`);
    expect(saved.every((t) => t.refreshToken && t.accessToken && t.clientId === CLIENT_ID)).toBe(true);
  });

  test('listens on the documented port 8765 by default and prints the exact redirect URI to register', async () => {
    const db = `sqlite:${join(temp.dir, 'login-default.db')}`;
    const running = startCli(['login', '--no-open', '--store', db], { env });
    const text = await running.waitFor(authUrl);
    expect(text).toContain('Redirect URI: http://127.0.0.1:8765/callback\n');
    expect(text).toContain('(register exactly this URI for the client in the Zoho API console');
    const link = new URL(authUrl.exec(text)?.[1] ?? '');
    expect(link.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:8765/callback');
    // The same port for a second login at once: refused, naming the way out.
    const second = await runCli(['login', '--no-open', '--store', db], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("Cannot listen for Zoho's callback on 127.0.0.1:8765: EADDRINUSE");
    expect(second.stderr).toContain('or --port 0 for a random one');
    expect((await fetch(link)).status).toBe(200);
    expect((await running.result).code).toBe(0);
    const random = startCli(['login', '--no-open', '--store', db, '--port', '0', '--timeout', '1s'], { env });
    const randomText = await random.waitFor(authUrl);
    expect(randomText).toMatch(/Redirect URI: http:\/\/127\.0\.0\.1:\d+\/callback\n/);
    expect(randomText).not.toContain(':8765/');
    expect(randomText).toContain('a random port, as --port 0 asks');
    expect((await random.result).code).toBe(1);
  });

  test('refuses a callback with the wrong state or a Zoho error, and gives up after --timeout', async () => {
    const db = `sqlite:${join(temp.dir, 'login-refused.db')}`;
    const exchangesBefore = emulator.counters.grantExchanges;
    const forged = startCli(['login', '--no-open', '--store', db, '--port', '0'], { env });
    const denied = startCli(['login', '--no-open', '--store', db, '--port', '0'], { env });
    const [timedOut] = await Promise.all([runCli(['login', '--no-open', '--store', db, '--timeout', '1s', '--port', '0'], { env })]);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toContain('No sign-in arrived within 1s');

    const forgedUrl = new URL(authUrl.exec(await forged.waitFor(authUrl))?.[1] ?? '');
    const forgedCallback = new URL(forgedUrl.searchParams.get('redirect_uri') ?? '');
    forgedCallback.search = new URLSearchParams({ code: 'stolen-code-0123456789', state: 'not-the-state' }).toString();
    const forgedPage = await fetch(forgedCallback);
    expect(forgedPage.status).toBe(400);
    const forgedResult = await forged.result;
    expect(forgedResult.code).toBe(1);
    expect(forgedResult.stderr).toContain("The callback's state parameter does not match the one sent");

    const deniedUrl = new URL(authUrl.exec(await denied.waitFor(authUrl))?.[1] ?? '');
    const deniedCallback = new URL(deniedUrl.searchParams.get('redirect_uri') ?? '');
    deniedCallback.search = new URLSearchParams({ error: 'access_denied', state: deniedUrl.searchParams.get('state') ?? '' }).toString();
    expect((await fetch(deniedCallback)).status).toBe(400);
    const deniedResult = await denied.result;
    expect(deniedResult.code).toBe(1);
    expect(deniedResult.stderr).toContain('Zoho did not grant access: access_denied');
    expect(emulator.counters.grantExchanges).toBe(exchangesBefore); // nothing exchanged here
  });
});

describe('secrets', () => {
  test('no command printed a secret whole', () => {
    expect(outputs.length).toBeGreaterThan(15);
    expectNoSecrets(outputs, secrets);
  });
});
