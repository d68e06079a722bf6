/**
 * Has the token file changed since we last looked? The view keeps the current file open and
 * compares its fstat with the stamp it saw (file-stamp.ts): an fstat needs no path lookup, so it
 * costs a fraction of a stat. Any change to that file shows in its stamp, and so does its
 * replacement or removal: unlinking a file (a rename over it, a delete) updates its ctime, and an
 * open file's inode number cannot be reused. While a stamp is in doubt (file-stamp.ts) the path
 * is stat'ed too, or the bytes compared; only a change reads the file again.
 */
import { closeSync, fstatSync, openSync, readFileSync, type Stats, statSync } from 'node:fs';
import { type Doubt, doubtOf, type FileStamp, sameStamp, stampOf } from './file-stamp.js';

export type Observation =
  /** Same content as last time. */
  | { kind: 'unchanged' }
  /** The file is gone (it existed last time). */
  | { kind: 'missing' }
  /** New content (or the first look): parse it. */
  | { kind: 'content'; bytes: Buffer };

const UNCHANGED: Observation = { kind: 'unchanged' };
const MISSING: Observation = { kind: 'missing' };

interface Descriptor {
  fd: number | null;
}

// A view dropped without close() still releases its descriptor.
const descriptors = new FinalizationRegistry<Descriptor>((held) => closeQuietly(held.fd));

export class FileView {
  /** Whole-file reads so far. */
  reads = 0;
  private known = false;
  /** The file as we last saw it; null when it did not exist. */
  private stamp: FileStamp | null = null;
  private doubt: Doubt = 'none';
  /** The bytes the stamp stands for, kept only while they must be compared ('content' doubt). */
  private bytes: readonly Uint8Array[] | null = null;
  private readonly current: Descriptor = { fd: null };

  constructor(readonly path: string) {
    descriptors.register(this, this.current, this);
  }

  /**
   * What changed since the last observation or adopted write. `strict` (used under the write
   * lock) always stats the path as well, for file systems that might not show a replacement in
   * the old file's ctime.
   */
  observe(strict = false): Observation {
    if (!this.known || this.doubt === 'content') return this.read();
    if (this.stamp === null) {
      return statSync(this.path, { throwIfNoEntry: false }) === undefined ? UNCHANGED : this.read();
    }
    if (this.doubt === 'path' || strict) {
      const observedAt = Date.now();
      const stats = statSync(this.path, { throwIfNoEntry: false });
      if (!stats || !sameStamp(this.stamp, stats)) return this.read();
      this.doubt = doubtOf(this.stamp, observedAt) === 'none' ? 'none' : 'path';
      return UNCHANGED;
    }
    let stats: Stats | undefined;
    try {
      stats = this.current.fd === null ? undefined : fstatSync(this.current.fd);
    } catch {
      stats = undefined; // fall back to the path
    }
    return stats && stats.nlink > 0 && sameStamp(this.stamp, stats) ? UNCHANGED : this.read();
  }

  /**
   * Takes over the file we just wrote: its open descriptor and stats. Its bytes are ours, so
   * they are never compared: only a replacement is looked for while its ctime is recent (a
   * writer that ignores the lock and rewrites in place within that tick races us anyway).
   */
  adoptWrite(fd: number, stats: Stats, observedAt: number): void {
    this.setDescriptor(fd);
    this.stamp = stampOf(stats);
    this.doubt = doubtOf(this.stamp, observedAt) === 'none' ? 'none' : 'path';
    this.bytes = null;
    this.known = true;
  }

  /** Forgets what was seen: the next observation reads the file whatever its stamp. */
  forget(): void {
    this.setDescriptor(null);
    this.known = false;
    this.stamp = null;
    this.doubt = 'none';
    this.bytes = null;
  }

  close(): void {
    this.forget();
    descriptors.unregister(this);
  }

  /** Reads the file through its path, with one descriptor so that stamp and bytes agree. */
  private read(): Observation {
    const wasMissing = this.known && this.stamp === null;
    const observedAt = Date.now();
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.forget();
      this.known = true;
      return wasMissing ? UNCHANGED : MISSING;
    }
    let stats: Stats;
    let bytes: Buffer;
    try {
      stats = fstatSync(fd);
      bytes = readFileSync(fd);
    } catch (error) {
      closeQuietly(fd);
      throw error;
    }
    this.reads++;
    const same = this.bytes !== null && sameBytes(bytes, this.bytes);
    this.setDescriptor(fd);
    this.stamp = stampOf(stats);
    this.doubt = doubtOf(this.stamp, observedAt);
    this.bytes = this.doubt === 'content' ? [bytes] : null;
    this.known = true;
    return same ? UNCHANGED : { kind: 'content', bytes };
  }

  private setDescriptor(fd: number | null): void {
    if (this.current.fd !== null && this.current.fd !== fd) closeQuietly(this.current.fd);
    this.current.fd = fd;
  }
}

function closeQuietly(fd: number | null): void {
  if (fd === null) return;
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
}

function sameBytes(bytes: Buffer, parts: readonly Uint8Array[]): boolean {
  let offset = 0;
  for (const part of parts) {
    if (offset + part.length > bytes.length) return false;
    if (Buffer.compare(bytes.subarray(offset, offset + part.length), part) !== 0) return false;
    offset += part.length;
  }
  return offset === bytes.length;
}
