/** `ztoken demo` end to end: the narrated lifecycle on a SQLite file, rerun on the same file. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { secretsOf } from '../../src/token.js';
import { DEFAULT_CLIENT } from '../../src/zoho/emulator/index.js';
import { ANSI, expectNoSecrets, outputs, runCli, startCli, tempDir } from './helpers.js';

const temp = tempDir('ztoken-demo');
afterAll(() => temp.remove());

describe('ztoken demo', () => {
  test.concurrent('runs the whole lifecycle in under 15 s, reruns on the same file, and prints no secret', async () => {
    const db = join(temp.dir, 'demo.db');
    const first = await runCli(['demo', '--store', `sqlite:${db}`], { timeoutMs: 30_000 });
    expect(first.stderr).toBe(`New token store sqlite:${db}: it did not exist, so it is created.\n`);
    expect(first.code).toBe(0);
    expect(first.ms).toBeLessThan(15_000);
    const out = first.stdout;
    expect(out).toContain(`file ${db}`);
    expect(out).toMatch(/1\. Authorize two users/);
    expect(out).toMatch(/alice@zylker\.com:700123456 {2}token id 1/);
    expect(out).toMatch(/bob@zylker\.com:700123456 {2}token id 2/);
    expect(out).toMatch(/GET \/crm\/v8\/Leads -> HTTP 200: Christopher Maclead/);
    expect(out).toMatch(/stored access token is now expired 1m ago/);
    expect(out).toMatch(/emulator's refresh counter: 0 before, 1 after/);
    expect(out).toMatch(/100 x HTTP 200 in \d+ ms with exactly 1 refresh/);
    expect(out).toMatch(/recovered: HTTP 200 after 1 refresh/);
    expect(out).toMatch(/revoked at Zoho \(emulator revocations \+1\) and deleted from the store/);
    expect(out).toMatch(/Zoho now refuses Bob's old refresh token \(invalid_code\)/);
    expect(out).toMatch(/100 concurrent calls on an expired token +1 refresh, 100 x HTTP 200/);
    expect(out).toMatch(/401 INVALID_TOKEN recovered +1 refresh, 1 retry, HTTP 200/);
    // Every call to the token endpoint is named, and the parts add up.
    expect(out).toMatch(
      /calls to the token endpoint +5 \(2 exchanges, 2 refreshes, 1 refused as invalid_code \(Bob's revoked refresh token\)\)\n/,
    );
    // The times it prints are by its moved clock, and it says so and what ztoken list will show.
    expect(out).toContain(
      "times left are by the emulator's clock, which step 3 moved 61 minutes ahead of this machine's: npm run ztoken -- list, on this machine's clock, shows 61 minutes more left",
    );
    expect(out).toContain(`see it with npm run ztoken -- list --store sqlite:${db}`);
    expect(out.trimEnd().split('\n').at(-1)).toBe('Your own Zoho tokens: npm run ztoken -- login (all commands: npm run ztoken -- --help)');
    expect(out).not.toMatch(ANSI);
    expect(out).not.toContain('✗');

    // One user lives in the EU: served by the EU emulator, shown with its DC.
    expect(out).toMatch(
      /eva@zylker\.eu:800555111 lives in the EU data center: exchanged at the EU accounts server, CRM called at the EU API \(HTTP 200\)/,
    );
    expect(out).toMatch(/│ eva@zylker\.eu:800555111 +│ [^│]+│ refresh +│ EU +│/);
    expect(out).toMatch(/EU data center \(Eva\) +token endpoint 1 \(1 exchanges, 0 refreshes\), CRM API calls 3/);

    // What it left: Alice and Eva, with their secrets (which the output must not show whole).
    const store = new SQLiteStore({ path: db });
    const left = await store.getTokens();
    await store.close();
    expect(left.map((t) => t.userName)).toEqual(['alice@zylker.com:700123456', 'eva@zylker.eu:800555111']);
    expect(left[0]?.clientId).toBe(DEFAULT_CLIENT.clientId);

    // A rerun on the same file cleans up its own tokens first and succeeds again.
    const second = await runCli(['demo', '--store', `sqlite:${db}`], { timeoutMs: 30_000 });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('removed 2 token(s) left by an earlier demo run');
    expect(second.stdout).toMatch(/alice@zylker\.com:700123456 {2}token id \d+/);
    expect(second.stdout).toMatch(/exactly 1 refresh/);

    expectNoSecrets(outputs, [...left.flatMap(secretsOf), DEFAULT_CLIENT.clientSecret]);
  });

  test.concurrent('colours a terminal when FORCE_COLOR says so and never with NO_COLOR', async () => {
    const running = startCli(['demo', '--store', 'sqlite::memory:'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' }, timeoutMs: 30_000 });
    const coloured = await running.result;
    expect(coloured.code).toBe(0);
    expect(coloured.stdout).toMatch(ANSI);
    expect(coloured.stdout).toContain('in memory: gone when the demo ends');
  });

  test.concurrent('by default keeps its data in a temporary store, says where, and leaves nothing behind', async () => {
    const cwd = tempDir('ztoken-demo-cwd');
    try {
      const result = await runCli(['demo'], {
        cwd: cwd.dir,
        env: { ZTOKEN_STORE: `sqlite:${join(cwd.dir, 'mine.db')}` },
        timeoutMs: 30_000,
      });
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      const where = /token store +sqlite:(\S+) +\(a temporary file, removed when the demo ends; --store URL keeps it\)/.exec(result.stdout);
      expect(where).not.toBeNull();
      expect(existsSync(where?.[1] ?? '/')).toBe(false);
      expect(result.stdout).toContain("The demo's store was temporary and is removed: nothing is left behind.");
      expect(readdirSync(cwd.dir)).toEqual([]); // neither ./zohooauth.db nor ZTOKEN_STORE's file
    } finally {
      cwd.remove();
    }
  });
});
