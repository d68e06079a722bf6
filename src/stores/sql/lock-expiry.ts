/**
 * Lock expiry enforced by the waiters. A withLock holder drops its own session after ttlMs, but a
 * holder that is alive and frozen (SIGSTOP, a stalled VM, a debugger) never runs that timer and
 * its session keeps the lock. So each holder records, in the statement that takes the lock, its
 * session, owner id and expiry (server clock) in a small side table; a waiter that finds the lock
 * taken looks the holder up and, once the lock is past its expiry, ends the holder's session
 * (MySQL KILL CONNECTION, PostgreSQL pg_terminate_backend) so the server frees the lock.
 */
import type { LockHolder, LockSession } from './sql-driver.js';

/** The side table, one per database (PostgreSQL: per schema of the token table). */
export const LOCK_TABLE = 'ztoken_locks';

/** How soon to look again when the lock is held by a session that left no record. */
const UNRECORDED_RECHECK_MS = 250;
/** Longest wait between two looks at a recorded holder (its expiry may be far off). */
const MAX_RECHECK_MS = 1_000;
/** After ending an expired holder: the server frees its lock within moments; do not end it twice. */
const ENDED_RECHECK_MS = 100;
/** After failing to end an expired holder (not allowed), look again a little later. */
const FAILED_END_RECHECK_MS = 500;

/**
 * Rate-limits the waiter's look-ups: one when it first finds the lock taken, then at the
 * holder's expiry (at most a second apart), so polling waiters do not double the load.
 */
export class ExpiredHolderWatch {
  private nextCheckAt = 0;

  constructor(
    private readonly session: LockSession,
    private readonly name: string,
  ) {}

  /** Called after each failed attempt to take the lock; ends the holder once it has expired. */
  async afterMiss(): Promise<void> {
    const now = Date.now();
    if (now < this.nextCheckAt) return;
    const holder: LockHolder | null = await this.session.findHolder(this.name);
    if (!holder) {
      this.nextCheckAt = now + UNRECORDED_RECHECK_MS;
    } else if (holder.remainingMs > 0) {
      this.nextCheckAt = now + Math.min(holder.remainingMs + 1, MAX_RECHECK_MS);
    } else {
      const ended = await this.session.endExpiredHolder(this.name, holder);
      this.nextCheckAt = now + (ended ? ENDED_RECHECK_MS : FAILED_END_RECHECK_MS);
    }
  }
}
