/**
 * Names of the temp files written beside a target (token file or lock file) and the removal of
 * orphans that a killed writer left behind. A temp name carries the host tag and pid of its
 * writer: `.<target>.<hostTag>.<pid>.<random>.tmp`.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HOST_TAG, isProcessAlive } from './process-identity.js';

/** Orphans of other hosts (whose pids we cannot check) are removed once this old. */
export const FOREIGN_ORPHAN_AGE_MS = 10 * 60_000;

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${HOST_TAG}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

const TEMP_NAME = /^\.(.+)\.([0-9a-f]{8})\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes temp files of `target` (and of lock files named after it) whose writer is gone: a
 * dead pid of this host, or older than FOREIGN_ORPHAN_AGE_MS. Best effort: returns how many
 * were removed and never throws.
 */
export function removeOrphanTempFiles(target: string, now = Date.now()): number {
  const dir = dirname(target);
  const base = basename(target);
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match || !(match[1] === base || match[1]!.startsWith(`${base}.`))) continue;
    const path = join(dir, name);
    try {
      const ours = match[2] === HOST_TAG;
      const pid = Number(match[3]);
      const orphan = ours ? !isProcessAlive(pid) : now - statSync(path).mtimeMs > FOREIGN_ORPHAN_AGE_MS;
      if (orphan) {
        unlinkSync(path);
        removed++;
      }
    } catch {
      // Gone already or not ours to remove: either way nothing to do.
    }
  }
  return removed;
}
