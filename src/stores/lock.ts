/**
 * Lock helpers shared by every store's withLock: validation of the arguments, a polling loop
 * with jitter and a deadline, and an in-process lock table for stores that live in one process.
 */
import { randomUUID } from 'node:crypto';
import { TokenStoreError } from '../errors.js';

export const MAX_LOCK_KEY_LENGTH = 200;

export function validateLockArgs(key: unknown, ttlMs: unknown): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_LOCK_KEY_LENGTH) {
    throw new TokenStoreError('INVALID_ARGUMENT', `Invalid lock key: expected 1 to ${MAX_LOCK_KEY_LENGTH} characters`);
  }
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new TokenStoreError('INVALID_ARGUMENT', `Invalid lock ttlMs: expected a positive number of milliseconds`);
  }
}

/** A unique owner id, so that only the holder releases a lock. */
export function newLockOwner(): string {
  return randomUUID();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `tryAcquire` until it returns true or the wait runs out. Waits grow from 5 ms to 50 ms
 * with jitter so a fleet does not retry in lock step.
 */
export async function acquireWithRetry(
  tryAcquire: () => Promise<boolean> | boolean,
  key: string,
  ttlMs: number,
  where: string,
  waitMs = Math.max(5_000, ttlMs * 2),
): Promise<void> {
  const deadline = Date.now() + waitMs;
  let pause = 5;
  for (;;) {
    if (await tryAcquire()) return;
    if (Date.now() >= deadline) {
      throw new TokenStoreError('LOCK_TIMEOUT', `Could not take lock "${key}" on ${where} within ${waitMs} ms`);
    }
    await sleep(pause + Math.random() * pause);
    pause = Math.min(50, pause * 2);
  }
}

/** Runs fn under a lock in this process only, with the same expiry rules as the shared locks. */
export class LocalLocks {
  private readonly held = new Map<string, { owner: string; expiresAt: number }>();

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>, where: string): Promise<T> {
    validateLockArgs(key, ttlMs);
    const owner = newLockOwner();
    await acquireWithRetry(
      () => {
        const current = this.held.get(key);
        if (current && current.expiresAt > Date.now()) return false;
        this.held.set(key, { owner, expiresAt: Date.now() + ttlMs });
        return true;
      },
      key,
      ttlMs,
      where,
    );
    try {
      return await fn();
    } finally {
      if (this.held.get(key)?.owner === owner) this.held.delete(key);
    }
  }
}
