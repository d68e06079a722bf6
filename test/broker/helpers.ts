/**
 * Broker processes for tests: `node --import tsx src/cli/main.ts serve ...` (one process, so
 * signals reach the broker itself), its JSON log lines collected, and small HTTP helpers.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEFAULT_CLIENT, type Emulator } from '../../src/zoho/emulator/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface BrokerProcessOptions {
  storeUrl: string;
  keysFile: string;
  emulator: Emulator;
  refreshAhead?: string;
  lockTtl?: string;
  listen?: string;
  extra?: string[];
}

export class BrokerProcess {
  readonly lines: Record<string, unknown>[] = [];
  stdout = '';
  stderr = '';
  url = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { test: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (d) => {
      this.stderr += String(d);
    });
    createInterface({ input: child.stdout }).on('line', (text) => {
      this.stdout += `${text}\n`;
      if (!text.startsWith('{')) return;
      const line = JSON.parse(text) as Record<string, unknown>;
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(line)) return true;
        w.resolve(line);
        return false;
      });
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  static async start(options: BrokerProcessOptions): Promise<BrokerProcess> {
    const args = [
      '--import',
      'tsx',
      join(ROOT, 'src', 'cli', 'main.ts'),
      'serve',
      '--store',
      options.storeUrl,
      '--keys',
      options.keysFile,
      '--listen',
      options.listen ?? '127.0.0.1:0',
      '--refresh-ahead',
      options.refreshAhead ?? '0s',
      '--lock-ttl',
      options.lockTtl ?? '2s',
      '--debug',
      ...(options.extra ?? []),
    ];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ZOHO_CLIENT_ID: DEFAULT_CLIENT.clientId,
        ZOHO_CLIENT_SECRET: DEFAULT_CLIENT.clientSecret,
        ZOHO_ACCOUNTS_URL: options.emulator.url,
        NO_COLOR: '1',
      },
    });
    const broker = new BrokerProcess(child);
    const listening = broker.waitFor((l) => l.event === 'listening', 30_000);
    const failed = broker.exited.then(({ code }) => {
      throw new Error(`broker exited (${code}) before listening: ${broker.stderr}${broker.stdout}`);
    });
    const line = await Promise.race([listening, failed]);
    broker.url = String(line.url);
    return broker;
  }

  waitFor(test: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no such log line in ${timeoutMs} ms; log:\n${this.stdout.slice(-3000)}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.signal('SIGKILL'), 10_000);
    this.signal('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }
}

export async function askToken(
  url: string,
  key: string | null,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(`${url}/v1/access-token`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { status: response.status, json, text };
}

/**
 * Checks Prometheus text exposition format line by line (HELP, TYPE, samples with labels and a
 * float value); returns the samples as name{labels} -> value.
 */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const labels = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*")*,?)?\\}`;
  const sample = new RegExp(`^(${name})(${labels})? (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|\\+Inf|-Inf|NaN))(?: -?[0-9]+)?$`);
  const help = new RegExp(`^# HELP ${name} .*$`);
  const type = new RegExp(`^# TYPE ${name} (counter|gauge|histogram|summary|untyped)$`);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!help.test(line) && !type.test(line)) throw new Error(`not Prometheus text: ${line}`);
      continue;
    }
    const match = sample.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
