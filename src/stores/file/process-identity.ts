/**
 * Who holds a lock or wrote a temp file: this host (plus its PID namespace, so two containers
 * with one hostname are not confused, and its boot id, so two machines with one hostname are
 * not either) and a pid, so a dead holder on this host is detected at once instead of after its
 * expiry.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

/**
 * This machine's boot (or, failing that, the machine's) id. The PID namespace's inode alone does
 * not tell machines apart: every machine's initial namespace has the same one. A boot id also
 * changes on reboot, when the pids of the last boot stop meaning anything.
 */
function machineId(): string {
  for (const file of ['/proc/sys/kernel/random/boot_id', '/etc/machine-id']) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (id) return id;
    } catch {
      // Not Linux, or not readable here: try the next, else go without.
    }
  }
  return '';
}

/** This machine, boot and PID namespace: pids are comparable only between equal HOST_IDs. */
export const HOST_ID = `${hostname()}#${pidNamespace()}#${machineId()}`;

/** A short file-name-safe tag of HOST_ID, for temp file names. */
export const HOST_TAG = createHash('sha1').update(HOST_ID).digest('hex').slice(0, 8);

/** Whether a process of this host is still running (a zombie counts as running until reaped). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
