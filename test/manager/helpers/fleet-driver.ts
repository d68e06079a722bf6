/**
 * The parent side of a token-manager fleet: spawns fleet-worker.ts children with tsx, talks to
 * them over stdin/stdout JSON lines, and runs the scenarios the fleet test and the fleet benchmark
 * share (all callers of all processes reaching an expired token together, API-call soaks).
 * The parent owns the emulator; children get its url and, with every command, its clock offset.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Emulator } from '../../../src/zoho/emulator/index.js';
import type { FetchReply, FleetCommand, FleetMode, FleetReply, FleetWorkerConfig, GetReply } from './fleet-protocol.js';

export type { FleetMode, FleetWorkerConfig } from './fleet-protocol.js';

const WORKER = join(import.meta.dirname, 'fleet-worker.ts');
const TSX = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.bin', 'tsx');

/** The lock key TokenManager takes to refresh a token (token-manager.ts, refreshCoordinated). */
export const refreshLockKey = (clientId: string, tokenId: string) => `ztoken:refresh:${clientId}:${tokenId}`;

/** What a child must add to Date.now() to read the emulator's clock (same machine, same Date.now). */
export const emulatorOffset = (emulator: Emulator) => emulator.clock.now() - Date.now();

type Ok = Extract<FleetReply, { ok: true }>;
type CommandBody = FleetCommand extends infer C ? (C extends FleetCommand ? Omit<C, 'seq'> : never) : never;

/** One child process. `pid` is the worker's own pid (tsx runs it as a child of its own). */
export class FleetProcess {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: Ok) => void; reject: (e: Error) => void }>();
  private stderr = '';
  readonly exited: Promise<void>;
  pid = 0;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (d) => (this.stderr = (this.stderr + String(d)).slice(-4000)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const reply = JSON.parse(line) as FleetReply;
      const waiter = this.pending.get(reply.seq);
      if (!waiter) return;
      this.pending.delete(reply.seq);
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new Error(`fleet worker ${this.pid}: ${reply.error}`));
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        const why = new Error(`fleet worker ${this.pid} exited (${signal ?? code}) ${this.stderr}`);
        for (const waiter of this.pending.values()) waiter.reject(why);
        this.pending.clear();
        resolve();
      }),
    );
  }

  static async spawn(config: FleetWorkerConfig): Promise<FleetProcess> {
    const child = spawn(TSX, [WORKER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const worker = new FleetProcess(child);
    const ready = await worker.expect(0);
    worker.pid = ready.pid ?? 0;
    return worker;
  }

  /** Writes a command at once (synchronously) and returns its reply. */
  request(body: CommandBody): Promise<Ok> {
    const seq = ++this.seq;
    const reply = this.expect(seq);
    this.child.stdin.write(`${JSON.stringify({ ...body, seq })}\n`);
    return reply;
  }

  /** SIGKILL to the worker itself (killing the tsx wrapper would leave it running). */
  async kill(): Promise<void> {
    if (this.pid) process.kill(this.pid, 'SIGKILL');
    else this.child.kill('SIGKILL');
    await this.exited;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => void this.kill().catch(() => undefined), 5_000);
    this.child.stdin.end(`${JSON.stringify({ cmd: 'exit', seq: ++this.seq })}\n`);
    await this.exited;
    clearTimeout(timer);
  }

  private expect(seq: number): Promise<Ok> {
    return new Promise((resolve, reject) => this.pending.set(seq, { resolve, reject }));
  }
}

export interface RaceResult {
  /** Successful refreshes at the emulator during the race. */
  refreshes: number;
  /** Refresh events fired by the children's managers of this mode during the race. */
  refreshEvents: number;
  /** Access token -> how many callers (across the fleet) got it. */
  tokens: Record<string, number>;
  callersServed: number;
  failures: string[];
  /** From the start signal until the last process answered that all its callers were served. */
  elapsedMs: number;
  /** Epoch ms (Date.now) of the start signal and of the last answer. */
  startedAt: number;
  finishedAt: number;
}

export interface SoakResult {
  calls: number;
  succeeded: number;
  failed: number;
  /** ZohoThrottleErrors the callers saw, and throttle answers the emulator gave. */
  throttleErrors: number;
  throttledAtZoho: number;
  /** 401 INVALID_TOKEN answers the emulator gave (each is retried once by the manager). */
  apiRejected: number;
  refreshes: number;
  failures: string[];
  /** Wall time of each simulated hour's calls. */
  hourMs: number[];
}

export class Fleet {
  private constructor(
    readonly processes: FleetProcess[],
    readonly emulator: Emulator,
  ) {}

  static async start(size: number, emulator: Emulator, config: Omit<FleetWorkerConfig, 'accountsUrl'>): Promise<Fleet> {
    const started = await Promise.allSettled(
      Array.from({ length: size }, () => FleetProcess.spawn({ ...config, accountsUrl: emulator.url })),
    );
    const processes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(processes.map((p) => p.close()));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new Fleet(processes, emulator);
  }

  /** Every process switches to this shared store (closing the one before; null: none). */
  async use(storeUrl: string | null): Promise<void> {
    await Promise.all(this.processes.map((p) => p.request({ cmd: 'use', storeUrl })));
  }

  /** Every process's callers ask for the token at once (each child starts when its line arrives). */
  async getAll(mode: FleetMode, callers: number): Promise<RaceResult> {
    const before = this.emulator.counters.refreshes;
    const offset = emulatorOffset(this.emulator);
    const startedAt = Date.now();
    const started = performance.now();
    const pending = this.processes.map((p) => p.request({ cmd: 'get', offset, mode, callers }));
    const replies = (await Promise.all(pending)) as (Ok & GetReply)[];
    const elapsedMs = performance.now() - started;
    const finishedAt = Date.now();
    const tokens: Record<string, number> = {};
    for (const reply of replies) for (const [token, n] of Object.entries(reply.tokens)) tokens[token] = (tokens[token] ?? 0) + n;
    return {
      refreshes: this.emulator.counters.refreshes - before,
      refreshEvents: 0,
      tokens,
      callersServed: Object.values(tokens).reduce((a, b) => a + b, 0),
      failures: replies.flatMap((r) => r.failures),
      elapsedMs,
      startedAt,
      finishedAt,
    };
  }

  /** Moves the emulator past the token's expiry, then every caller of every process asks at once. */
  async raceForExpiredToken(mode: FleetMode, callers: number): Promise<RaceResult> {
    const eventsBefore = await this.refreshEvents(mode);
    this.emulator.clock.advance(this.emulator.limits.accessTtlMs);
    const result = await this.getAll(mode, callers);
    return { ...result, refreshEvents: (await this.refreshEvents(mode)) - eventsBefore };
  }

  /**
   * `hours` simulated hours of `callsPerHour` API calls (GET /crm/v8/Leads), spread over the
   * processes; each hour is `slicesPerHour` steps of the clock, each step's calls made at once.
   */
  async soak(hours: number, callsPerHour: number, slicesPerHour = 10): Promise<SoakResult> {
    const start = this.emulator.counters;
    const result: SoakResult = {
      calls: 0,
      succeeded: 0,
      failed: 0,
      throttleErrors: 0,
      throttledAtZoho: 0,
      apiRejected: 0,
      refreshes: 0,
      failures: [],
      hourMs: [],
    };
    const sliceMs = 3_600_000 / slicesPerHour;
    for (let hour = 0; hour < hours; hour++) {
      const hourStarted = performance.now();
      for (let slice = 0; slice < slicesPerHour; slice++) {
        this.emulator.clock.advance(sliceMs);
        const calls = share(callsPerHour, slicesPerHour, slice);
        const offset = emulatorOffset(this.emulator);
        const replies = (await Promise.all(
          this.processes.map((p, i) =>
            p.request({ cmd: 'fetch', offset, mode: 'coordinated', calls: share(calls, this.processes.length, i) }),
          ),
        )) as (Ok & FetchReply)[];
        for (const reply of replies) {
          result.calls += reply.succeeded + reply.failed;
          result.succeeded += reply.succeeded;
          result.failed += reply.failed;
          result.throttleErrors += reply.throttled;
          if (result.failures.length < 5) result.failures.push(...reply.failures);
        }
      }
      result.hourMs.push(performance.now() - hourStarted);
    }
    const end = this.emulator.counters;
    result.refreshes = end.refreshes - start.refreshes;
    result.throttledAtZoho = end.throttled - start.throttled;
    result.apiRejected = end.apiRejected - start.apiRejected;
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.close()));
  }

  private async refreshEvents(mode: FleetMode): Promise<number> {
    // A zero-caller 'get' only reports the counters.
    const replies = (await Promise.all(
      this.processes.map((p) => p.request({ cmd: 'get', offset: emulatorOffset(this.emulator), mode, callers: 0 })),
    )) as (Ok & GetReply)[];
    return replies.reduce((sum, r) => sum + r.refreshes[mode], 0);
  }
}

/** The i-th of `parts` near-equal shares of `total` (the shares add up to `total`). */
export function share(total: number, parts: number, i: number): number {
  return Math.floor((total * (i + 1)) / parts) - Math.floor((total * i) / parts);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
