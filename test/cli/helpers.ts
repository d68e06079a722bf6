/**
 * Runs the ztoken CLI as a child process (node_modules/.bin/tsx src/cli/main.ts ...), collects
 * its output, and keeps every output of a test file so that no secret can hide in any of them.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { secretsOf, type StoredToken } from '../../src/token.js';

export const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
export const MAIN = join(process.cwd(), 'src', 'cli', 'main.ts');
const TSX_LOADER = pathToFileURL(join(process.cwd(), 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
  /**
   * Run `node --import tsx` in one process instead of the tsx wrapper (which relays signals to
   * its child and kills a child that does not acknowledge them within 30 ms): for signal tests.
   */
  direct?: boolean;
}

/** The environment of a child: none of the caller's ZOHO_/ZTOKEN_ settings or colour forcing, and no browser. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(ZOHO_|ZTOKEN_)/.test(key) || key === 'FORCE_COLOR' || key === 'NO_COLOR') continue;
    env[key] = value;
  }
  env.NO_COLOR = '1';
  // A CLI run by a test never opens a browser, whatever its flags (a test may override this).
  env.ZTOKEN_NO_BROWSER = '1';
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Every output of this test file, checked for secrets at the end. */
export const outputs: { args: string[]; text: string }[] = [];

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  result: Promise<CliResult>;
  /** Resolves with stdout + stderr so far once `pattern` appears in either. */
  waitFor(pattern: RegExp): Promise<string>;
}

/** A command's stdout and stderr as they arrive, and waits for a pattern to appear in either. */
export class OutputWatch {
  stdout = '';
  stderr = '';
  private readonly waiters: { pattern: RegExp; resolve: (text: string) => void }[] = [];

  append(stream: 'stdout' | 'stderr', text: string): void {
    this[stream] += text;
    for (const waiter of [...this.waiters]) {
      if (waiter.pattern.test(this.stdout) || waiter.pattern.test(this.stderr)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(this.stdout + this.stderr);
      }
    }
  }

  /** Resolves with stdout + stderr once `pattern` appears; rejects if `ended` settles first. */
  waitFor(pattern: RegExp, ended: Promise<unknown>, label: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.waiters.push({ pattern, resolve });
      this.append('stdout', '');
      ended.then(
        () => reject(new Error(`${label} ended before printing ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`)),
        reject,
      );
    });
  }
}

export function startCli(args: string[], options: RunOptions = {}): RunningCli {
  const started = performance.now();
  const [command, prefix] = options.direct ? [process.execPath, ['--import', TSX_LOADER, MAIN]] : [TSX, [MAIN]];
  const child = spawn(command, [...prefix, ...args], { cwd: options.cwd ?? process.cwd(), env: childEnv(options.env) });
  const output = new OutputWatch();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.append('stdout', chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.append('stderr', chunk));
  const timeoutMs = options.timeoutMs ?? 20_000;
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`ztoken ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${output.stdout}\nstderr: ${output.stderr}`),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const { stdout, stderr } = output;
      outputs.push({ args, text: `${stdout}\n${stderr}` });
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
  return { child, result, waitFor: (pattern: RegExp) => output.waitFor(pattern, result, `ztoken ${args.join(' ')}`) };
}

/** The tokens of the SQLite store at `db`; every secret they hold is added to `secrets`, for the leak check. */
export async function storedTokensOf(db: string, secrets: Set<string>): Promise<StoredToken[]> {
  const store = new SQLiteStore({ path: db });
  try {
    const tokens = await store.getTokens();
    for (const token of tokens) for (const s of secretsOf(token)) secrets.add(s);
    return tokens;
  } finally {
    await store.close();
  }
}

/**
 * At most this many run-to-completion children of one test file at a time. A test that starts a
 * dozen commands with Promise.all would otherwise start two dozen node processes at once on CI's
 * two cores (tsx runs a wrapper and a child), next to the other file's; each then took long
 * enough to pass its timeout after printing its output. A child's timeout starts when it starts.
 */
const MAX_RUNNING_CLIS = 3;
let runningClis = 0;
const waitingClis: (() => void)[] = [];

export async function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  // A finished child hands its slot straight to the next waiting one.
  if (runningClis < MAX_RUNNING_CLIS) runningClis++;
  else await new Promise<void>((resolve) => waitingClis.push(resolve));
  try {
    return await startCli(args, options).result;
  } finally {
    const next = waitingClis.shift();
    if (next) next();
    else runningClis--;
  }
}

/** Asserts that no secret appears whole in any text (secrets shorter than 8 characters are ignored). */
export function expectNoSecrets(texts: { args: string[]; text: string }[], secrets: Iterable<string | undefined>): void {
  const list = [...new Set([...secrets].filter((s): s is string => typeof s === 'string' && s.length >= 8))];
  expect(list.length).toBeGreaterThan(0);
  for (const { args, text } of texts) {
    for (const secret of list) {
      if (text.includes(secret)) throw new Error(`ztoken ${args.join(' ')} printed the secret ${secret.slice(0, 6)}… whole:\n${text}`);
    }
  }
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Whether a store module exists yet (other engineers add them). */
export function storeExists(name: string): boolean {
  return existsSync(join(process.cwd(), 'src', 'stores', `${name}.ts`));
}

/** A port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** ANSI escape sequences (colour). */
export const ANSI = /\u001b\[[0-9;]*m/;
