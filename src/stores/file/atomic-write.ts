/**
 * Replaces a file without ever rewriting it in place: the new content goes to a temp file in
 * the same folder (mode 0600), is fsynced, renamed over the target, and the folder is fsynced.
 * A crash at any instant leaves either the old file or the new one, whole.
 */
import { closeSync, type Stats, fchmodSync, fstatSync, fsyncSync, openSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { dirname } from 'node:path';
import { tempPathFor } from './temp-files.js';

export const FILE_MODE = 0o600;

/** Most buffers handed to one writev call (IOV_MAX is 1024 on Linux and macOS). */
const IOV_BATCH = 1024;

export interface WrittenFile {
  /** fstat of the new file, taken after the rename. */
  stats: Stats;
  /** Date.now() just before that fstat (see file-stamp.ts on racy stamps). */
  observedAt: number;
  /** With `keepOpen`, a descriptor of the new file, which the caller closes; else null. */
  fd: number | null;
}

export interface AtomicWriteOptions {
  /** Called after the data is durable and before the rename; throwing aborts the write. */
  beforeRename?: () => void;
  /** Keep the new file's descriptor open (to fstat it later without a path lookup). */
  keepOpen?: boolean;
}

export function writeFileAtomicSync(path: string, parts: readonly Uint8Array[], options: AtomicWriteOptions = {}): WrittenFile {
  const temp = tempPathFor(path);
  const fd = openSync(temp, 'wx', FILE_MODE);
  let renamed = false;
  let keep = false;
  try {
    // The umask may have narrowed the mode; a token file is always exactly owner read/write.
    fchmodSync(fd, FILE_MODE);
    writeAll(fd, parts);
    fsyncSync(fd);
    options.beforeRename?.();
    renameSync(temp, path);
    renamed = true;
    const observedAt = Date.now();
    const stats = fstatSync(fd);
    fsyncDirectory(dirname(path));
    keep = options.keepOpen === true;
    return { stats, observedAt, fd: keep ? fd : null };
  } finally {
    if (!keep) closeSync(fd);
    if (!renamed) {
      try {
        unlinkSync(temp);
      } catch {
        // Nothing more can be done; an orphan is removed by removeOrphanTempFiles later.
      }
    }
  }
}

/** Writes every byte of `parts` in order, resuming after partial writes. */
function writeAll(fd: number, parts: readonly Uint8Array[]): void {
  let index = 0;
  let offset = 0; // bytes of parts[index] already written
  while (index < parts.length) {
    const first = parts[index]!;
    if (offset >= first.length) {
      index++;
      offset = 0;
      continue;
    }
    const batch: Uint8Array[] = [offset === 0 ? first : first.subarray(offset)];
    for (let j = index + 1; j < parts.length && batch.length < IOV_BATCH; j++) batch.push(parts[j]!);
    let written = writevSync(fd, batch);
    while (written > 0 && index < parts.length) {
      const left = parts[index]!.length - offset;
      if (written >= left) {
        written -= left;
        index++;
        offset = 0;
      } else {
        offset += written;
        written = 0;
      }
    }
  }
}

/** Makes the rename durable. Platforms that cannot fsync a folder (Windows) are skipped. */
function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw error;
  } finally {
    closeSync(fd);
  }
}
