/**
 * The benchmark harness: tinybench measurements reduced to medians in microseconds, collected
 * as rows and printed as one table per suite. Suites live in bench/suites/*.ts and export
 * `run(ctx)`; bench/run.ts runs them all (or those named on the command line).
 */
import { Bench } from 'tinybench';

export interface BenchRow {
  suite: string;
  subject: string;
  operation: string;
  tokens?: number;
  medianUs: number;
  p99Us?: number;
  samples: number;
  note?: string;
}

export interface MeasureOptions {
  timeMs?: number;
  /** At least this many timed calls (default 50). */
  iterations?: number;
  /** Untimed calls first (tinybench's default, 16, is too many for a call of 100 ms). */
  warmupIterations?: number;
}

export interface BenchContext {
  /** Adds a measured row. */
  record(row: BenchRow): void;
  /** Measures fn repeatedly; returns the median and p99 in µs. */
  measure(fn: () => unknown | Promise<unknown>, options?: MeasureOptions): Promise<{ medianUs: number; p99Us: number; samples: number }>;
  /**
   * Token counts to run at (default 1,000 / 10,000 / 100,000; BENCH_QUICK=1 for 1,000 / 10,000;
   * `--scale N` for 1,000 / N).
   */
  sizes: number[];
  quick: boolean;
}

export async function measure(
  fn: () => unknown | Promise<unknown>,
  options: MeasureOptions = {},
): Promise<{ medianUs: number; p99Us: number; samples: number }> {
  // Start each measurement on a collected heap, so garbage left by the previous subject (another
  // store, another size) is not charged to this one. `npm run bench` runs node with --expose-gc.
  (globalThis as { gc?: () => void }).gc?.();
  const bench = new Bench({
    time: options.timeMs ?? 500,
    iterations: options.iterations ?? 50,
    warmup: true,
    ...(options.warmupIterations === undefined ? {} : { warmupIterations: options.warmupIterations, warmupTime: 0 }),
  });
  bench.add('x', fn);
  await bench.run();
  const task = bench.tasks[0];
  const latency = task?.result && 'latency' in task.result ? task.result.latency : undefined;
  if (!latency) throw new Error(`benchmark failed: ${String((task?.result as { error?: unknown } | undefined)?.error ?? 'no result')}`);
  return { medianUs: latency.p50 * 1000, p99Us: latency.p99 * 1000, samples: latency.samplesCount };
}

/** A fixed-seed random generator so runs pick the same keys. */
export function seededRandom(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The middle value (the upper middle of an even count), NaN for none. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export function formatUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(us < 10 ? 2 : 1)} µs`;
}
