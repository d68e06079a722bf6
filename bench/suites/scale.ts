/**
 * Issue 11 benchmark, `npm run bench -- --scale N`: every store (MemoryStore, SQLiteStore,
 * DBStore on MySQL/MariaDB, PostgresStore, RedisStore, FileStore) loaded in bulk in its own
 * format with 1,000 and N tokens in Zoho's columns, plaintext beside the same tokens encrypted
 * (EncryptedStore over a second store of the same kind); bench/scale/measure.ts says what is
 * measured. Each store and size runs in child processes of their own (bench/scale/child.ts; three
 * by default, the sizes alternating, figures the medians across them), each after the CPU has
 * gone quiet (bench/scale/quiet.ts). Targets: @N within 2x @1k (all but FileStore),
 * FileStore findToken <= 7.5 µs, EncryptedStore's own cost (over MemoryStore, which has no I/O
 * of its own) <= +10 µs on findToken and <= +15 µs on a save.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Table from 'cli-table3';
import { type BenchContext, formatUs, median } from '../lib.js';
import type { Figures, Operation } from '../scale/measure.js';
import { waitForQuietCpu } from '../scale/quiet.js';
import { SCALE_STORE_NAMES } from '../scale/stores.js';

const SUITE = 'scale';
const CHILD = join(import.meta.dirname, '..', 'scale', 'child.ts');
type Results = Map<string, Map<Operation, Map<number, Figures>>>;

/** Runs bench/scale/child.ts for one kind and size; its figures, or the reason it failed. */
function runChild(kind: string, size: number, quick: boolean): Promise<{ loadS: number; figures: [Operation, Figures][] }> {
  return new Promise((resolve, reject) => {
    const args = ['--expose-gc', '--import', 'tsx', CHILD, kind, String(size), ...(quick ? ['quick'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('RESULT '.length)));
      else reject(new Error(stderr.trim().split('\n').at(-1) || `exit code ${code}`));
    });
  });
}

/** The kinds to measure: all, or those named in BENCH_SCALE_STORES (comma-separated), for a rerun of a few. */
function kinds(): string[] {
  const wanted = process.env.BENCH_SCALE_STORES?.split(',').map((name) => name.trim());
  if (!wanted) return SCALE_STORE_NAMES;
  const unknown = wanted.filter((name) => !SCALE_STORE_NAMES.includes(name));
  if (unknown.length > 0)
    throw new Error(`BENCH_SCALE_STORES names no store kind ${unknown.join(', ')} (kinds: ${SCALE_STORE_NAMES.join(', ')})`);
  return SCALE_STORE_NAMES.filter((name) => wanted.includes(name));
}

/**
 * How many child processes measure each store and size (BENCH_SCALE_PROCESSES, default 3): the
 * figures are the medians across them. A process's heap layout and the moment's machine load
 * move microsecond figures by tens of percent from one process to the next.
 */
function processCount(): number {
  const n = Number(process.env.BENCH_SCALE_PROCESSES ?? 3);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`BENCH_SCALE_PROCESSES must be a whole number of at least 1 (got ${process.env.BENCH_SCALE_PROCESSES})`);
  return n;
}

/** One figure from several processes' figures of the same operation: medians of their medians. */
function acrossProcesses(runs: Figures[]): Figures {
  const merge = (pick: (f: Figures) => Figures['plain']) => ({
    medianUs: median(runs.map((f) => pick(f).medianUs)),
    p99Us: median(runs.map((f) => pick(f).p99Us)),
    samples: runs.reduce((sum, f) => sum + pick(f).samples, 0),
  });
  return {
    plain: merge((f) => f.plain),
    encrypted: merge((f) => f.encrypted),
    addedUs: median(runs.map((f) => f.addedUs)),
    rounds: runs.reduce((sum, f) => sum + f.rounds, 0),
  };
}

export async function run(ctx: BenchContext): Promise<void> {
  const results: Results = new Map();
  const processes = processCount();
  // Kind by kind, the sizes alternating process after process: a ratio compares runs seconds
  // apart, not minutes (a shared machine's speed drifts).
  for (const kind of kinds()) {
    const runs = new Map<number, Map<Operation, Figures[]>>();
    for (let n = 0; n < processes; n++) {
      for (const size of ctx.sizes) {
        const quiet = await waitForQuietCpu();
        const busy = quiet.busy === undefined ? 'unknown' : `${Math.round(quiet.busy * 100)} %`;
        try {
          const { loadS, figures } = await runChild(kind, size, ctx.quick);
          console.log(
            `${kind}: ${size.toLocaleString('en-US')} tokens loaded in ${loadS.toFixed(2)} s, measured (process ${n + 1} of ${processes}; CPU busy ${busy} before)`,
          );
          const bySize = runs.get(size) ?? new Map<Operation, Figures[]>();
          runs.set(size, bySize);
          for (const [operation, f] of figures) bySize.set(operation, [...(bySize.get(operation) ?? []), f]);
        } catch (error) {
          const message = (error as Error).message;
          console.log(`${kind} at ${size}: skipped (${message})`);
          ctx.record({ suite: SUITE, subject: kind, operation: 'failed', tokens: size, medianUs: Number.NaN, samples: 0, note: message });
        }
      }
    }
    const byOperation = new Map<Operation, Map<number, Figures>>();
    results.set(kind, byOperation);
    for (const [size, bySize] of runs) {
      for (const [operation, list] of bySize) {
        const f = acrossProcesses(list);
        byOperation.set(operation, (byOperation.get(operation) ?? new Map()).set(size, f));
        const how = `median of ${list.length} processes, ${f.rounds} interleaved rounds in all`;
        ctx.record({ suite: SUITE, subject: kind, operation, tokens: size, ...f.plain, note: how });
        ctx.record({
          suite: SUITE,
          subject: `EncryptedStore(${kind})`,
          operation,
          tokens: size,
          ...f.encrypted,
          note: `${f.addedUs >= 0 ? '+' : ''}${formatUs(f.addedUs)} vs plain (${how}: the median of the processes' median round differences)`,
        });
      }
    }
  }
  const [small, large] = [ctx.sizes[0], ctx.sizes[ctx.sizes.length - 1]];
  if (small !== undefined && large !== undefined && small !== large) printSummary(results, small, large);
}

const FLAT = 2;
const TARGET_ADDED_US: Record<Operation, number> = {
  'findToken (refresh token)': 10,
  'saveToken (known user)': 15,
  'saveToken (new user, new id)': 15,
};
const FILE_FIND_US = 7.5;
/**
 * EncryptedStore's own cost is judged where it is the only difference: over MemoryStore, which
 * has no I/O. Over another store, +enc also holds that store's cost of values about twice as
 * long (three wider columns and index entries per row; FileStore rewrites a 1.6 times larger
 * file per save): it is printed, not judged.
 */
const ENCRYPTION_JUDGED_ON = 'MemoryStore';

/** One line per store and operation: both sizes, the ratio, the encryption overhead, the verdicts. */
function printSummary(results: Results, small: number, large: number): void {
  const at = (n: number) => `@${n.toLocaleString('en-US')}`;
  const table = new Table({
    head: [
      'store',
      'operation',
      at(small),
      at(large),
      'ratio',
      `encrypted ${at(large)}`,
      `+enc ${at(small)}`,
      `+enc ${at(large)}`,
      'targets',
    ],
  });
  const misses: string[] = [];
  for (const [store, operations] of results) {
    for (const [operation, bySize] of operations) {
      const a = bySize.get(small);
      const b = bySize.get(large);
      if (!a || !b) continue;
      const ratio = b.plain.medianUs / a.plain.medianUs;
      const added = (f: Figures) => f.addedUs;
      const verdicts: string[] = [];
      if (store !== 'FileStore') verdicts.push(ratio <= FLAT ? 'flat ✓' : `not flat (> ${FLAT}x) ✗`);
      if (store === 'FileStore' && operation === 'findToken (refresh token)')
        verdicts.push(b.plain.medianUs <= FILE_FIND_US ? `≤ ${FILE_FIND_US} µs ✓` : `> ${FILE_FIND_US} µs ✗`);
      if (store === ENCRYPTION_JUDGED_ON) {
        verdicts.push(
          added(b) <= TARGET_ADDED_US[operation]
            ? `+enc ≤ ${TARGET_ADDED_US[operation]} µs ✓`
            : `+enc > ${TARGET_ADDED_US[operation]} µs ✗`,
        );
      }
      misses.push(...verdicts.filter((v) => v.endsWith('✗')).map((v) => `${store} ${operation}: ${v}`));
      const signed = (us: number) => `${us >= 0 ? '+' : ''}${formatUs(us)}`;
      table.push([
        store,
        operation,
        formatUs(a.plain.medianUs),
        formatUs(b.plain.medianUs),
        `${ratio.toFixed(2)}x`,
        formatUs(b.encrypted.medianUs),
        signed(added(a)),
        signed(added(b)),
        verdicts.join(', '),
      ]);
    }
  }
  console.log(`\nscale summary (medians; ratio = ${at(large)} / ${at(small)}, +enc = EncryptedStore - plain, cold)`);
  console.log(table.toString());
  console.log(
    `+enc is judged on ${ENCRYPTION_JUDGED_ON} (EncryptedStore's own cost); on the other stores it also holds their cost of longer values.`,
  );
  console.log(misses.length === 0 ? 'every target met in this run' : `targets missed in this run:\n  ${misses.join('\n  ')}`);
}
