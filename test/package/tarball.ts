/**
 * The package as npm ships it: `npm pack` once (prepack builds dist/ afresh), extracted, and
 * "installed" into temporary apps offline. Installing is what npm does with a tarball: the package
 * goes to node_modules/zoho-token-store, and each package it declares (its `dependencies`, read
 * from the packed package.json) plus what the app itself chose is linked from this repository's
 * node_modules, where `npm ci` put them. Nothing is fetched, and nothing the package does not
 * declare is there: a missing dependency fails exactly as it would for a user.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

export const REPO = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

export interface PackedPackage {
  /** The extracted tarball (npm's `package/` folder). */
  dir: string;
  /** Every file in the tarball, relative to `dir`, with `/`. */
  files: string[];
  manifest: {
    name: string;
    exports: Record<string, Record<string, string>>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
}

export interface Workspace {
  root: string;
  remove(): void;
}

export function workspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'ztoken-pack-'));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path, base) : [relative(base, path).split('\\').join('/')];
  });
}

/** `npm pack` into the workspace and extract it. */
export async function pack(ws: Workspace): Promise<PackedPackage> {
  const out = join(ws.root, 'tarball');
  mkdirSync(out);
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', out], { cwd: REPO, maxBuffer: 64 << 20 });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[];
  if (!info) throw new Error(`npm pack printed no tarball: ${stdout.slice(0, 200)}`);
  await run('tar', ['xzf', join(out, info.filename), '-C', out]);
  const dir = join(out, 'package');
  return { dir, files: listFiles(dir), manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) };
}

function linkFromRepo(app: string, name: string): void {
  const source = join(REPO, 'node_modules', name);
  if (!existsSync(source))
    throw new Error(`${name} is not in this repository's node_modules: run npm ci (it must be a dependency of the project)`);
  const target = join(app, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(source, target, 'dir');
}

/**
 * A fresh app in `ws/name` with its package.json and files, the packed package installed, and
 * `extras` (the app's own choices: better-sqlite3, vitest, @types/node...) beside it.
 */
export function makeApp(
  ws: Workspace,
  pkg: PackedPackage,
  name: string,
  manifest: object,
  files: Record<string, string>,
  extras: string[],
): string {
  const app = join(ws.root, name);
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...manifest }, null, 2));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(app, file)), { recursive: true });
    writeFileSync(join(app, file), text);
  }
  cpSync(pkg.dir, join(app, 'node_modules', pkg.manifest.name), { recursive: true });
  for (const dep of Object.keys(pkg.manifest.dependencies ?? {})) linkFromRepo(app, dep);
  for (const extra of extras) linkFromRepo(app, extra);
  return app;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node args` in `cwd`; never throws on a non-zero exit. */
export async function node(cwd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd,
      timeout: timeoutMs,
      maxBuffer: 64 << 20,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', NODE_OPTIONS: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

/** The compilers the .d.ts are proved with: the project's TypeScript 6 and the newest 7.x (an npm alias). */
export const COMPILERS = {
  'TypeScript 6': join(REPO, 'node_modules/typescript/bin/tsc'),
  'TypeScript 7': join(REPO, 'node_modules/typescript-7/bin/tsc'),
};
