/** The files of the temporary apps the pack test installs the package into. */
import type { PackedPackage } from './tarball.js';

/** Every entry of the exports map, as an import specifier ('.' is the package name). */
export const specifiersOf = (pkg: PackedPackage) =>
  Object.keys(pkg.manifest.exports).map((key) => (key === '.' ? pkg.manifest.name : `${pkg.manifest.name}/${key.slice(2)}`));

/**
 * A CommonJS app: requires every entry (an entry may fail only for want of a declared peer the
 * app did not install), then saves and finds a token with SQLite. Prints one JSON line.
 */
export const CJS_MAIN = `'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');
const entries = {};
for (const spec of JSON.parse(process.argv[2])) {
  try {
    entries[spec] = { loaded: Object.keys(require(spec)).length };
  } catch (error) {
    entries[spec] = { error: String(error && error.message).split('\\n')[0], code: error && error.code };
  }
}
const { SQLiteStore } = require('zoho-token-store');
(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-cjs-'));
  const store = new SQLiteStore({ path: join(dir, 'tokens.db') });
  const saved = await store.saveToken({ userName: 'alice@zylker.com', clientId: 'c', clientSecret: 's', refreshToken: '1000.r', accessToken: '1000.a', expiryTime: 1767225600000 });
  const found = await store.findToken({ userName: 'alice@zylker.com' });
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ entries, saved, found }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

/** A strict TypeScript app's compiler options: nodenext, every strict flag, and no skipLibCheck. */
export const STRICT_TSCONFIG = JSON.stringify(
  {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      strict: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      noEmit: true,
      skipLibCheck: false,
    },
    include: ['src'],
  },
  null,
  2,
);

/** Imports every entry, from an ES module and from a CommonJS module (TypeScript's require of ESM). */
export function entryImports(pkg: PackedPackage): Record<string, string> {
  const specs = specifiersOf(pkg);
  const body = specs.map((spec, i) => `import * as entry${i} from '${spec}';`).join('\n');
  const list = `\nexport const entries = [${specs.map((_, i) => `entry${i}`).join(', ')}];\n`;
  return { 'src/entries.mts': body + list, 'src/entries.cts': body + list };
}

/** Typed use of the main entry, as an app writes it. */
export const TYPED_USE = `import { openStore, SQLiteStore, type StoredToken, type TokenStore, TokenStoreError } from 'zoho-token-store';
import { runTokenStoreConformance, type ConformanceOptions } from 'zoho-token-store/testing';

const store: TokenStore = new SQLiteStore({ path: ':memory:' });
const saved: StoredToken = await store.saveToken({ userName: 'alice@zylker.com', accessToken: '1000.a' });
const found: StoredToken | null = await store.findToken({ userName: saved.userName ?? '' });
const other = await openStore('memory:');
try {
  await other.findTokenById('');
} catch (error) {
  if (error instanceof TokenStoreError) console.log(error.reason, found?.id);
}
const kit: ConformanceOptions = { name: 'x', create: () => new SQLiteStore({ path: ':memory:' }) };
export { kit, runTokenStoreConformance };
`;

/** The kit, from an app that installed only vitest: one store passes, one has no lock, one breaks rule 2. */
export const KIT_TESTS: Record<string, string> = {
  'memory.test.ts': `import { MemoryStore } from 'zoho-token-store';
import { runTokenStoreConformance } from 'zoho-token-store/testing';
runTokenStoreConformance({ name: 'MemoryStore', create: () => new MemoryStore(), propertyRuns: 5 });
`,
  'nolock.test.ts': `import { MemoryStore, type TokenStore } from 'zoho-token-store';
import { runTokenStoreConformance } from 'zoho-token-store/testing';
// A store without withLock: the kit skips its lock tests, saying why.
const noLock = (): TokenStore => {
  const inner = new MemoryStore();
  return {
    findToken: (t) => inner.findToken(t), saveToken: (t) => inner.saveToken(t), deleteToken: (id) => inner.deleteToken(id),
    getTokens: () => inner.getTokens(), deleteTokens: () => inner.deleteTokens(), findTokenById: (id) => inner.findTokenById(id),
    close: () => inner.close(),
  };
};
runTokenStoreConformance({ name: 'NoLockStore', create: noLock, propertyRuns: 5 });
`,
  'broken.test.ts': `import { MemoryStore, type TokenStore } from 'zoho-token-store';
import { runTokenStoreConformance } from 'zoho-token-store/testing';
// Breaks findToken rule 2 (by access token): the kit's failure must name the rule and lookupRuleOf.
class NoAccessTokenRule extends MemoryStore {
  override async findToken(partial: Parameters<TokenStore['findToken']>[0]) {
    if (partial.accessToken && !partial.userName && !partial.clientId && !partial.clientSecret) return null;
    return super.findToken(partial);
  }
}
runTokenStoreConformance({ name: 'BrokenStore', create: () => new NoAccessTokenRule(), propertyRuns: 1 });
`,
};

/** The README's "emulator, from code" block: the first ts block after that heading. */
export function readmeEmulatorSnippet(readme: string): string {
  const at = readme.indexOf('### The emulator, from code');
  const block = at < 0 ? undefined : /```ts\n([\s\S]*?)```/.exec(readme.slice(at))?.[1];
  if (!block) throw new Error('the shipped README has no "### The emulator, from code" section with a ts block');
  return block;
}
