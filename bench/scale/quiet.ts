/**
 * Waits for a quiet CPU before a measurement: a bulk load leaves the database servers busy for a
 * while (InnoDB's purge, PostgreSQL's writer and autovacuum, Redis freeing a dropped prefix),
 * and on a small machine that work would be charged to the next store measured. Linux only
 * (/proc/stat); elsewhere it returns at once.
 */
import { readFileSync } from 'node:fs';

/** Busy and total CPU time (in ticks, all cores) since boot, or undefined without /proc/stat. */
function cpuTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return Number.isFinite(total) && total > 0 ? { busy: total - idle, total } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples the CPU every `windowMs` until one window is under `maxBusy` (a fraction of all cores)
 * or `timeoutMs` has passed; resolves to what was seen, for the log.
 */
export async function waitForQuietCpu(
  options: { maxBusy?: number; windowMs?: number; timeoutMs?: number } = {},
): Promise<{ waitedS: number; busy: number | undefined }> {
  const { maxBusy = 0.15, windowMs = 1000, timeoutMs = 60_000 } = options;
  const started = performance.now();
  let before = cpuTicks();
  if (!before) return { waitedS: 0, busy: undefined };
  for (;;) {
    await new Promise((done) => setTimeout(done, windowMs));
    const after = cpuTicks();
    if (!after) return { waitedS: 0, busy: undefined };
    const busy = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    const waitedS = (performance.now() - started) / 1000;
    if (busy < maxBusy || waitedS * 1000 >= timeoutMs) return { waitedS, busy };
    before = after;
  }
}
