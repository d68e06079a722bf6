/**
 * The emulator's clock: emulated epoch milliseconds that move with real time and can be pushed
 * forward (or set) by tests, so "an hour later" takes no real hour.
 * now = startTime + realElapsed + offset.
 */
import { performance } from 'node:perf_hooks';

export interface EmulatorClock {
  /** Emulated epoch milliseconds (an integer). */
  now(): number;
  /** Moves emulated time forward by `ms` (negative moves it back). */
  advance(ms: number): void;
  /** Sets emulated time to `ms`; it keeps moving with real time from there. */
  set(ms: number): void;
}

function checkMs(ms: unknown, what: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new RangeError(`clock.${what} needs a finite number of milliseconds, got ${String(ms)}`);
  }
  return Math.trunc(ms);
}

export function createClock(startTime: number = Date.now()): EmulatorClock {
  const base = checkMs(startTime, 'startTime');
  const realStart = performance.now();
  let offset = 0;
  const now = (): number => base + Math.floor(performance.now() - realStart) + offset;
  return {
    now,
    advance(ms: number): void {
      offset += checkMs(ms, 'advance');
    },
    set(ms: number): void {
      offset += checkMs(ms, 'set') - now();
    },
  };
}
