/**
 * The package as a stranger installs it (issue 13): one `npm pack`, installed offline into fresh
 * apps (see tarball.ts). A CommonJS app requires it and keeps a token in SQLite; a strict
 * nodenext TypeScript app (no skipLibCheck, no ioredis, mysql2, pg or Zoho SDK) typechecks under
 * TypeScript 6 and 7; the kit runs from an app that installed only vitest; the tarball has a
 * LICENSE, every source map resolves, and every README link resolves inside it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CJS_MAIN, entryImports, KIT_TESTS, readmeEmulatorSnippet, specifiersOf, STRICT_TSCONFIG, TYPED_USE } from './apps.js';
import { deadReadmeLinks, sourceMapProblems } from './checks.js';
import { COMPILERS, makeApp, node, type PackedPackage, pack, type RunResult, workspace } from './tarball.js';

const ws = workspace();
let pkg: PackedPackage;
let apps: { cjs: string; ts: string; kit: string };

beforeAll(async () => {
  pkg = await pack(ws);
  const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');
  const example = readFileSync(join(pkg.dir, 'examples/custom-sqlite-store.ts'), 'utf8');
  apps = {
    // A CommonJS app (npm init's default); it also typechecks the shipped example as a CJS file.
    cjs: makeApp(
      ws,
      pkg,
      'cjs-app',
      { type: 'commonjs' },
      { 'index.js': CJS_MAIN, 'tsconfig.json': STRICT_TSCONFIG, 'src/custom-sqlite-store.ts': example },
      ['better-sqlite3', '@types/better-sqlite3', '@types/node'],
    ),
    // A strict ESM TypeScript app with SQLite only: no ioredis, mysql2, pg, Zoho SDK, nor their types.
    ts: makeApp(
      ws,
      pkg,
      'ts-app',
      { type: 'module' },
      {
        'tsconfig.json': STRICT_TSCONFIG,
        ...entryImports(pkg),
        'src/use.mts': TYPED_USE,
        'src/emulator.mts': readmeEmulatorSnippet(readme),
        'emulator.mjs': readmeEmulatorSnippet(readme),
      },
      ['better-sqlite3', '@types/node'],
    ),
    kit: makeApp(ws, pkg, 'kit-app', { type: 'module' }, KIT_TESTS, ['vitest']),
  };
}, 180_000);
afterAll(() => ws.remove());

describe('the packed package', () => {
  it('has a LICENSE (MIT, as package.json says)', () => {
    expect(pkg.files).toContain('LICENSE');
    const license = readFileSync(join(pkg.dir, 'LICENSE'), 'utf8');
    expect(license).toContain('MIT License');
    expect(license).toContain('zoho-token-store contributors');
  });

  it('every export entry has types and a condition require() can use, each naming a shipped file', () => {
    for (const [entry, conditions] of Object.entries(pkg.manifest.exports)) {
      expect(Object.keys(conditions)[0], `${entry}: "types" comes first`).toBe('types');
      expect(conditions.require ?? conditions.default, `${entry}: no "require" or "default" condition`).toBeDefined();
      for (const [condition, target] of Object.entries(conditions)) {
        expect(pkg.files, `${entry} ${condition}`).toContain(target.replace(/^\.\//, ''));
      }
    }
  });

  it('every source map resolves: its sources are shipped or embedded', () => {
    const { maps, problems } = sourceMapProblems(pkg);
    expect(maps).toBeGreaterThan(50);
    expect(problems).toEqual([]);
  });

  it('every relative link in the README resolves inside the tarball', () => {
    const { checked, dead } = deadReadmeLinks(pkg);
    expect(checked.length).toBeGreaterThan(10);
    expect(dead).toEqual([]);
  });
});

describe('installed into fresh apps', () => {
  it('a "type": "commonjs" app requires it and saves and finds a token with SQLite', async () => {
    const result = await node(apps.cjs, ['index.js', JSON.stringify(specifiersOf(pkg))]);
    expect(result.stderr.replace(/.*ExperimentalWarning.*\n?|.*--trace-warnings.*\n?/g, '')).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      entries: Record<string, { loaded?: number; error?: string; code?: string }>;
      saved: { id: string };
      found: { id: string; accessToken: string } | null;
    };
    expect(out.saved.id).toBe('1');
    expect(out.found).toMatchObject({ id: '1', accessToken: '1000.a' });
    const peers = Object.keys(pkg.manifest.peerDependencies ?? {});
    for (const [spec, entry] of Object.entries(out.entries)) {
      // An entry either loads, or fails only for want of a declared (optional) peer the app lacks.
      if (entry.loaded === undefined)
        expect(
          peers.some((peer) => entry.error?.includes(`'${peer}'`)),
          `${spec}: ${entry.error}`,
        ).toBe(true);
    }
    expect(out.entries[pkg.manifest.name]?.loaded).toBeGreaterThan(50);
  });

  it('the shipped custom-store example typechecks in the CommonJS app (strict, no skipLibCheck)', async () => {
    const result = await node(apps.cjs, [COMPILERS['TypeScript 6'], '-p', '.']);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  for (const [compiler, tsc] of Object.entries(COMPILERS)) {
    it(`a strict nodenext TypeScript app with only SQLite typechecks every entry under ${compiler}`, async () => {
      const version = await node(apps.ts, [tsc, '--version']);
      expect(version.stdout).toMatch(compiler === 'TypeScript 6' ? /Version 6\./ : /Version 7\./);
      const result = await node(apps.ts, [tsc, '-p', '.']);
      expect(result.stdout + result.stderr).toBe('');
      expect(result.code).toBe(0);
    });
  }

  it("the README's emulator example runs: one refresh after an hour on the emulator's clock", async () => {
    const result = await node(apps.ts, ['emulator.mjs']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('200 1');
  });

  describe('the kit, from an app that installed only vitest', () => {
    let kit: RunResult;
    let report: { testResults: { name: string; assertionResults: { title: string; status: string; failureMessages: string[] }[] }[] };
    const file = (name: string) => report.testResults.find((r) => r.name.endsWith(name))?.assertionResults ?? [];
    beforeAll(async () => {
      const vitest = join(apps.kit, 'node_modules/vitest/vitest.mjs');
      kit = await node(apps.kit, [vitest, 'run', '--reporter=verbose', '--reporter=json', '--outputFile.json=report.json'], 120_000);
      report = JSON.parse(readFileSync(join(apps.kit, 'report.json'), 'utf8'));
    }, 150_000);

    it('passes for MemoryStore (fast-check comes with the package)', () => {
      const results = file('memory.test.ts');
      expect(results.length).toBeGreaterThan(40);
      expect(results.filter((r) => r.status !== 'passed').map((r) => r.title)).toEqual([]);
    });

    it('skips the lock and mark tests of a store without those capabilities, saying why', () => {
      const skipped = file('nolock.test.ts').filter((r) => r.status !== 'passed');
      expect(skipped.map((r) => r.status)).toEqual(Array(6).fill('skipped'));
      expect(kit.stdout.match(/\[the store has no withLock\]/g)?.length).toBe(3);
      expect(kit.stdout.match(/\[the store has no re-authorization marks \(ReauthMarkStore\)\]/g)?.length).toBe(3);
    });

    it('names the broken rule and the helper that keeps it', () => {
      const failed = file('broken.test.ts').filter((r) => r.status === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.map((r) => r.title)).toContain('2. finds by access token when no client id or secret is given');
      const message = failed.flatMap((r) => r.failureMessages).join('\n');
      expect(message).toContain('findToken: rule 2, by access token without client id or secret');
      expect(message).toContain('lookupRuleOf()');
      expect(kit.code).not.toBe(0);
    });
  });
});
