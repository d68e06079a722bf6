// Starts file-writer.ts in child processes. The writer is bundled once with esbuild (the
// compiler tsx itself runs, taken from tsx's own dependency) and run with plain node: a child
// then starts in tens of milliseconds instead of most of a second, which the crash test needs
// for its hundred-odd restarts. If the bundle cannot be built, children run through tsx.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

const writerSource = join(import.meta.dirname, 'file-writer.ts');
let command: string[] | undefined;
let bundleDir: string | undefined;

function writerCommand(): string[] {
  if (command) return command;
  try {
    const esbuild = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))('esbuild') as typeof import('esbuild');
    bundleDir = mkdtempSync(join(tmpdir(), 'ztoken-file-writer-'));
    const outfile = join(bundleDir, 'file-writer.mjs');
    esbuild.buildSync({
      entryPoints: [writerSource],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    });
    command = [process.execPath, outfile];
  } catch {
    command = [process.execPath, '--import', 'tsx', writerSource];
  }
  return command;
}

/** Removes the bundled writer (call from afterAll). */
export function removeWriterBundle(): void {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  bundleDir = undefined;
  command = undefined;
}

export type Child = ChildProcessByStdio<Writable, Readable, Readable>;

export function startWriter(args: string[]): Child {
  const [exe, ...pre] = writerCommand();
  return spawn(exe!, [...pre, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: process.cwd() });
}

/** Runs a writer to completion; resolves to its stdout, rejects with its stderr. */
export function runWriter(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = startWriter(args);
    child.stdin.end();
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** Resolves once the child printed a line equal to `line`. */
export function waitForLine(child: Child, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (d: Buffer) => {
      buffered += d;
      if (buffered.split('\n').includes(line)) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`writer exited ${code} before printing "${line}"`)));
  });
}

/** Kills with SIGKILL and resolves once the child was reaped (its pid is gone). */
export function killHard(child: Child): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
