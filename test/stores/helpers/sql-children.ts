/** Bundled child processes for the SQL crash and lock-expiry tests: start one, read its lines. */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface ChildLines {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Resolves to the next line (from now or already received and not yet taken) that matches. */
  next(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Calls `fn` for every line as it arrives. */
  onLine(fn: (line: string) => void): void;
  /** Resolves when the child has exited and its output is read, with its exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Starts `node <script> ...args` (a bundle made by test/helpers/bundle.ts). */
export function startChild(script: string, args: string[]): ChildLines {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  const pending: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  let errors = '';
  let buffer = '';
  child.stderr.on('data', (d) => (errors += d));
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      pending.push(line);
      for (const fn of [...listeners]) fn(line);
      nl = buffer.indexOf('\n');
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    stderr: () => errors,
    onLine: (fn) => listeners.push(fn),
    next: (match, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const take = (): boolean => {
          const i = pending.findIndex(match);
          if (i < 0) return false;
          resolve(pending.splice(i, 1)[0]!);
          return true;
        };
        if (take()) return;
        const timer = setTimeout(() => reject(new Error(`child printed no matching line within ${timeoutMs} ms: ${errors}`)), timeoutMs);
        const listener = () => {
          if (take()) {
            clearTimeout(timer);
            listeners.splice(listeners.indexOf(listener), 1);
          }
        };
        listeners.push(listener);
        void exited.then(() => {
          if (!take()) {
            clearTimeout(timer);
            reject(new Error(`child exited without a matching line: ${errors}`));
          }
        });
      }),
  };
}
