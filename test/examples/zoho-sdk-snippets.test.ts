/**
 * Every snippet of docs/zoho-sdk.md (a fenced block after `<!-- snippet: FAMILY -->`) runs as
 * written: this package is built (tsc, as `npm run build` does) into a temporary package
 * directory, and each snippet is written into an application whose node_modules holds that
 * package and only that family's real SDK under its real name; node runs it there, in SQLite
 * (and, for the typescript-sdk 8.0 snippet, against the emulator). Its output and the token it
 * left in zohooauth.db are checked.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';
import { SAMPLE_LEADS } from '../../src/zoho/emulator/sample-data.js';
import { appWith, FAMILIES } from '../adapters/helpers/sdk-families.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const DOC = readFileSync(join(ROOT, 'docs/zoho-sdk.md'), 'utf8');
const SNIPPET = /<!-- snippet: (\S+) -->\n```js\n([\s\S]*?)```/g;
const snippets = [...DOC.matchAll(SNIPPET)].map((m) => ({ family: m[1] as string, code: m[2] as string }));

let work: string;
let pkg: string;
let emu: Emulator;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ztoken-doc-snippets-'));
  // The package as `npm run build` makes it; its dependencies resolve from this checkout.
  pkg = join(work, 'zoho-token-store');
  mkdirSync(pkg);
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  await run(process.execPath, [
    join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(ROOT, 'tsconfig.build.json'),
    '--outDir',
    join(pkg, 'dist'),
  ]);
  emu = await startEmulator();
}, 180_000);
afterAll(async () => {
  await emu?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('docs/zoho-sdk.md snippets', () => {
  it('has one snippet per SDK family', () => {
    expect(snippets.map((s) => s.family).sort()).toEqual(FAMILIES.map((f) => f.family).sort());
  });

  for (const { family, code } of snippets) {
    it(`${family}: runs with node in an app that installed only that SDK and this package`, async () => {
      const f = FAMILIES.find((x) => x.family === family);
      if (!f) throw new Error(`docs/zoho-sdk.md names an unknown family ${family}`);
      const app = appWith([f]);
      try {
        symlinkSync(pkg, join(app.dir, 'node_modules', 'zoho-token-store'), 'dir');
        const esm = /^import /m.test(code);
        const file = join(app.dir, esm ? 'app.mjs' : 'app.cjs');
        writeFileSync(file, code);
        const grant = family === 'ts-8' ? emu.issueGrantToken({ userEmail: 'alice@zylker.com' }) : undefined;
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: app.dir };
        if (grant) {
          Object.assign(env, {
            ZOHO_API_URL: emu.url,
            ZOHO_ACCOUNTS_URL: emu.url,
            ZOHO_CLIENT_ID: DEFAULT_CLIENT.clientId,
            ZOHO_CLIENT_SECRET: DEFAULT_CLIENT.clientSecret,
            ZOHO_GRANT_TOKEN: grant,
          });
        }
        const { stdout, stderr } = await run(process.execPath, [file], { cwd: app.dir, env, timeout: 60_000 });
        expect(stderr).toBe('');

        const store = new SQLiteStore({ path: join(app.dir, 'zohooauth.db') });
        try {
          const tokens = await store.getTokens();
          expect(tokens).toHaveLength(1);
          if (grant) {
            expect(stdout.trim().split('\n')).toEqual(SAMPLE_LEADS.map((l) => l.Last_Name));
            expect(tokens[0]).toMatchObject({ id: '1', userName: 'alice@zylker.com:700123456', grantToken: grant, apiDomain: emu.url });
            expect(tokens[0]?.accessToken).toMatch(/^1000\./);
          } else {
            expect(stdout).toBe('token 1 of alice@zylker.com\n');
            expect(tokens[0]).toMatchObject({
              id: '1',
              userName: 'alice@zylker.com',
              clientId: '1000.CLIENTID',
              clientSecret: 'client-secret',
              refreshToken: '1000.refresh.token',
            });
          }
        } finally {
          await store.close();
        }
      } finally {
        app.cleanup();
      }
    });
  }
});
