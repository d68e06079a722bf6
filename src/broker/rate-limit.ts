/**
 * Wrong keys are limited per client address: after `maxFailures` in `windowMs` the address gets
 * 429 until the window has passed, whatever key it sends. Memory is bounded: the oldest entries
 * are dropped past `maxAddresses`.
 */
export interface RateLimitOptions {
  maxFailures?: number;
  windowMs?: number;
  maxAddresses?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  windowStart: number;
}

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(options: RateLimitOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Ms until this address may try again, or 0 when it may now. */
  blockedFor(address: string): number {
    const entry = this.current(address);
    if (!entry || entry.failures < this.maxFailures) return 0;
    return Math.max(1, entry.windowStart + this.windowMs - this.now());
  }

  recordFailure(address: string): void {
    const entry = this.current(address);
    if (entry) {
      entry.failures++;
      return;
    }
    if (this.entries.size >= this.maxAddresses) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(address, { failures: 1, windowStart: this.now() });
  }

  private current(address: string): Entry | undefined {
    const entry = this.entries.get(address);
    if (entry && this.now() - entry.windowStart >= this.windowMs) {
      this.entries.delete(address);
      return undefined;
    }
    return entry;
  }
}
