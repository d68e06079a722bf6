/**
 * `ztoken login` opening the browser and checking the redirect URI first, run in this process
 * (main()) so that the test can hand the CLI its own browser opener: no browser is ever launched.
 * The test plays the browser by following the printed URL with fetch, against the real emulator.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserOpener } from '../../src/cli/browser.js';
import { main } from '../../src/cli/program.js';
import { type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { expectNoSecrets, freePort, OutputWatch, storedTokensOf, tempDir } from './helpers.js';

const CLIENT_ID = `1000.BROWSERTEST${randomBytes(6).toString('hex').toUpperCase()}`;
const CLIENT_SECRET = `browser-test-client-secret-${randomBytes(12).toString('hex')}`;
const AUTH_URL = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/v2\/auth\?\S+)/;
const temp = tempDir('ztoken-login-browser');
const outputs: { args: string[]; text: string }[] = [];
const secrets = new Set<string>([CLIENT_SECRET]);
let emulator: Emulator;
let port: number;
let registered: string;

beforeAll(async () => {
  port = await freePort();
  registered = `http://127.0.0.1:${port}/callback`;
  emulator = await startEmulator({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [registered] }] });
});

afterAll(async () => {
  await emulator?.close();
  temp.remove();
  expectNoSecrets(outputs, secrets);
});

interface InProcessRun {
  result: Promise<{ code: number; stdout: string; stderr: string }>;
  /** Resolves with stdout + stderr once `pattern` appears in either. */
  waitFor(pattern: RegExp): Promise<string>;
}

/** Runs `ztoken ARGS` in this process with `openBrowser` as its browser. */
function runLogin(args: string[], options: { env?: Record<string, string>; openBrowser: BrowserOpener }): InProcessRun {
  const output = new OutputWatch();
  // A display, as a desktop has: the opener is tried (it is the test's own).
  const env = { NO_COLOR: '1', DISPLAY: ':99', ...options.env };
  // Flags, not ZOHO_* variables: commander reads those from this process's own environment.
  const client = ['--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET];
  const accounts = args.includes('--accounts-url') ? [] : ['--accounts-url', emulator.url];
  const result = main(['node', 'ztoken', 'login', ...client, ...accounts, ...args], {
    env,
    openBrowser: options.openBrowser,
    stdout: { write: (text: string) => output.append('stdout', text) },
    stderr: { write: (text: string) => output.append('stderr', text) },
  }).then((code) => {
    const { stdout, stderr } = output;
    outputs.push({ args, text: `${stdout}\n${stderr}` });
    return { code, stdout, stderr };
  });
  return { result, waitFor: (pattern) => output.waitFor(pattern, result, `login ${args.join(' ')}`) };
}

/** A browser opener that only records what it was asked to open. */
function recordingOpener(): { opened: string[]; open: BrowserOpener } {
  const opened: string[] = [];
  return { opened, open: async (url) => void opened.push(url) };
}

const storedTokens = (db: string) => storedTokensOf(db, secrets);

describe('login opens the browser', () => {
  test('by default the opener gets exactly the printed sign-in URL; following it signs in', async () => {
    const db = join(temp.dir, 'opened.db');
    const browser = recordingOpener();
    const run = runLogin(['--store', `sqlite:${db}`, '--port', String(port)], { openBrowser: browser.open });
    const text = await run.waitFor(/a browser window was opened/);
    const printed = AUTH_URL.exec(text)?.[1] ?? '';
    expect(browser.opened).toEqual([printed]);
    expect(new URL(printed).searchParams.get('redirect_uri')).toBe(registered);
    expect((await fetch(printed)).status).toBe(200);
    const { code, stdout } = await run.result;
    expect(code).toBe(0);
    expect(stdout).toContain('Open this URL in a browser to sign in to Zoho:');
    expect(stdout).toMatch(/✓ Saved token \d+ \(alice@zylker\.com:700123456\) in sqlite:/);
    expect((await storedTokens(db)).map((t) => t.redirectUrl)).toEqual([registered]);
  });

  test('--no-open, ZTOKEN_NO_BROWSER=1 and CI=1 open nothing and print the URL', async () => {
    const cases: [string[], Record<string, string>, RegExp | null][] = [
      [['--no-open'], {}, null],
      [[], { ZTOKEN_NO_BROWSER: '1' }, /\(no browser opened: ZTOKEN_NO_BROWSER is set\)/],
      [[], { CI: 'true' }, /\(no browser opened: CI is set\)/],
    ];
    for (const [flags, env, said] of cases) {
      const browser = recordingOpener();
      const run = runLogin([...flags, '--store', 'memory:', '--port', '0', '--timeout', '1s', '--no-redirect-check'], {
        env,
        openBrowser: browser.open,
      });
      const { code, stdout, stderr } = await run.result;
      expect(code).toBe(1);
      expect(stderr).toContain('No sign-in arrived within 1s');
      expect(stdout).toMatch(AUTH_URL);
      expect(browser.opened).toEqual([]);
      expect(stdout).not.toContain('a browser window was opened');
      if (said) expect(stdout).toMatch(said);
      else expect(stdout).not.toContain('no browser opened');
    }
  });

  test('an opener that fails only says so: the URL is printed and the login goes on', async () => {
    const db = join(temp.dir, 'failed-opener.db');
    const asked: string[] = [];
    const failing: BrowserOpener = async (url) => {
      asked.push(url);
      throw new Error('spawn xdg-open ENOENT');
    };
    const run = runLogin(['--store', `sqlite:${db}`, '--port', String(port)], { openBrowser: failing });
    const text = await run.waitFor(/could not open a browser/);
    expect(text).toContain('(could not open a browser: spawn xdg-open ENOENT; open the URL above yourself)');
    const printed = AUTH_URL.exec(text)?.[1] ?? '';
    expect(asked).toEqual([printed]);
    expect((await fetch(printed)).status).toBe(200);
    expect((await run.result).code).toBe(0);
    expect(await storedTokens(db)).toHaveLength(1);
  });
});

describe('login checks the redirect URI first', () => {
  test('a redirect URI the client did not register fails before waiting, naming it and the fix', async () => {
    const grantsBefore = emulator.counters.grantsIssued;
    const browser = recordingOpener();
    const other = await freePort();
    const { code, stdout, stderr } = await runLogin(['--store', 'memory:', '--port', String(other)], { openBrowser: browser.open }).result;
    expect(code).toBe(1);
    const uri = `http://127.0.0.1:${other}/callback`;
    expect(stderr).toContain(
      `ztoken: error: ${emulator.url} refuses the redirect URI ${uri} for client ${CLIENT_ID}: it is not registered for that client (it answered HTTP 400 "Invalid Redirect Uri")`,
    );
    expect(stderr).toContain(`Add exactly ${uri} to the client's Authorized Redirect URIs in the Zoho API console`);
    expect(stderr).toContain('or pass the one it has with --redirect-uri URL');
    expect(stdout).not.toMatch(AUTH_URL); // it did not wait for a sign-in that cannot come
    expect(browser.opened).toEqual([]);
    expect(emulator.counters.grantsIssued).toBe(grantsBefore);
  });

  test('--no-redirect-check skips the question: the URL is printed and the login waits', async () => {
    const browser = recordingOpener();
    const run = runLogin(['--store', 'memory:', '--port', '0', '--timeout', '1s', '--no-redirect-check'], {
      openBrowser: browser.open,
    });
    const { code, stdout, stderr } = await run.result;
    expect(stderr).not.toContain('refuses the redirect URI');
    expect(stdout).toMatch(AUTH_URL);
    expect(browser.opened).toHaveLength(1);
    expect(code).toBe(1);
  });

  test('an accounts server that cannot be asked gets a warning, and the login goes on', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const browser = recordingOpener();
    const run = runLogin(['--store', 'memory:', '--port', '0', '--timeout', '1s', '--accounts-url', nowhere], {
      openBrowser: browser.open,
    });
    const { code, stdout, stderr } = await run.result;
    expect(stderr).toMatch(
      new RegExp(
        `warning: Could not check the redirect URI with ${nowhere.replace(/\./g, '\\.')}: it could not be asked \\(ECONNREFUSED\\)\\. Going on`,
      ),
    );
    expect(stdout).toContain(`  ${nowhere}/oauth/v2/auth?`);
    expect(browser.opened).toHaveLength(1);
    expect(stderr).toContain('No sign-in arrived within 1s');
    expect(code).toBe(1);
  });
});
