/**
 * A cross-process lock as a file beside the token file. The lock file appears whole or not at
 * all (written to a temp file, then hard-linked to the lock name, which fails if it exists) and
 * records its owner, pid, host and expiry. A lock is stale once expired, or at once when its
 * holder was a process of this host that is gone (a SIGKILLed holder blocks nobody).
 *
 * Removing a lock file (a stale one, or our own on release) happens under a short guard
 * (a `mkdir`), re-reading the lock inside it: so nobody removes a lock that another process
 * has just taken in its place. The guard is held for a few system calls; one left behind by a
 * killed process is broken after GUARD_STALE_MS, by one process at a time (breakStaleGuard).
 */
import { linkSync, mkdirSync, openSync, closeSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { FILE_MODE } from './atomic-write.js';
import { HOST_ID, isProcessAlive } from './process-identity.js';
import { tempPathFor } from './temp-files.js';

export interface LockRecord {
  owner: string;
  pid: number;
  host: string;
  /** Epoch ms after which anyone may take the lock. */
  expiresAt: number;
}

/** A lock file we cannot read (not ours, damaged) is taken to expire this long after its mtime. */
export const UNREADABLE_LOCK_TTL_MS = 30_000;
export const GUARD_STALE_MS = 1_000;

interface Held {
  text: string;
  record: LockRecord;
}

export type ReleaseResult = 'released' | 'not-held' | 'busy';

export class FileLock {
  private readonly guardPath: string;

  constructor(readonly path: string) {
    this.guardPath = `${path}.guard`;
  }

  /** One attempt to take the lock; returns the record written, or null when someone holds it. */
  tryAcquire(owner: string, ttlMs: number): LockRecord | null {
    const record: LockRecord = { owner, pid: process.pid, host: HOST_ID, expiresAt: Date.now() + ttlMs };
    if (this.create(record)) return record;
    const held = this.read();
    if (held === null) return this.create(record) ? record : null; // released meanwhile
    if (!isStale(held.record)) return null;
    const removed = this.underGuard(() => {
      const again = this.read();
      if (again !== null && again.text === held.text) this.unlink();
    });
    if (removed === 'busy') return null;
    record.expiresAt = Date.now() + ttlMs;
    return this.create(record) ? record : null;
  }

  /** Removes the lock if `owner` still holds it; 'busy' when the guard is taken (retry soon). */
  release(owner: string): ReleaseResult {
    let result: ReleaseResult = 'not-held';
    const guarded = this.underGuard(() => {
      const again = this.read();
      if (again !== null && again.record.owner === owner) {
        this.unlink();
        result = 'released';
      }
    });
    return guarded === 'busy' ? 'busy' : result;
  }

  /** The current holder, or null when the lock is free. */
  read(): Held | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return { text, record: parseRecord(text) ?? this.unreadableRecord() };
  }

  private unreadableRecord(): LockRecord {
    let mtimeMs = Date.now();
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch {
      // Vanished: treat as just written; the next attempt sees it gone.
    }
    return { owner: '', pid: 0, host: '', expiresAt: mtimeMs + UNREADABLE_LOCK_TTL_MS };
  }

  /** Creates the lock file with this record unless one exists. */
  private create(record: LockRecord): boolean {
    const text = JSON.stringify(record);
    const temp = tempPathFor(this.path);
    writeFileSync(temp, text, { mode: FILE_MODE, flag: 'wx' });
    try {
      linkSync(temp, this.path);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') return this.createExclusive(text);
      throw error;
    } finally {
      try {
        unlinkSync(temp);
      } catch {
        // removeOrphanTempFiles takes care of it.
      }
    }
  }

  /** For file systems without hard links: O_EXCL (a reader may briefly see it empty: unreadable). */
  private createExclusive(text: string): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'wx', FILE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  private unlink(): void {
    try {
      unlinkSync(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  /** Runs fn holding the guard; 'busy' when another process holds it. */
  private underGuard(fn: () => void): 'done' | 'busy' {
    if (!this.takeGuard()) return 'busy';
    try {
      fn();
    } finally {
      try {
        rmdirSync(this.guardPath);
      } catch {
        // Broken by someone who thought it stale: nothing left to release.
      }
    }
    return 'done';
  }

  private takeGuard(): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        mkdirSync(this.guardPath, { mode: 0o700 });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (!this.breakStaleGuard()) return false;
    }
    return false;
  }

  /**
   * Removes a guard left by a killed process; true when there is no guard any more. Two
   * processes that both saw it stale must not both remove it (the second would remove the fresh
   * guard the first has just taken), so breaking is done by one process at a time, under its own
   * `mkdir`, and the guard is looked at again under it.
   */
  private breakStaleGuard(): boolean {
    const breaker = `${this.guardPath}.break`;
    if (!olderThan(this.guardPath, GUARD_STALE_MS)) return false;
    try {
      mkdirSync(breaker, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another process is breaking it now, or was killed doing so (a few system calls).
      if (olderThan(breaker, BREAKER_STALE_MS)) removeDir(breaker);
      return false;
    }
    try {
      if (olderThan(this.guardPath, GUARD_STALE_MS)) removeDir(this.guardPath);
      return true;
    } finally {
      removeDir(breaker);
    }
  }
}

/** A breaker left by a process killed while breaking a guard is removed after this long. */
export const BREAKER_STALE_MS = 10 * GUARD_STALE_MS;

/** Whether the file or folder at `path` was last changed more than `ms` ago (false when missing). */
function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function removeDir(path: string): void {
  try {
    rmdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

export function isStale(record: LockRecord, now = Date.now()): boolean {
  if (now >= record.expiresAt) return true;
  return record.host === HOST_ID && record.pid !== process.pid && !isProcessAlive(record.pid);
}

function parseRecord(text: string): LockRecord | null {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    if (
      typeof value.owner !== 'string' ||
      typeof value.pid !== 'number' ||
      typeof value.host !== 'string' ||
      typeof value.expiresAt !== 'number'
    )
      return null;
    return { owner: value.owner, pid: value.pid, host: value.host, expiresAt: value.expiresAt };
  } catch {
    return null;
  }
}
