/**
 * Has the file changed since we read it? A stamp is what stat says (device, inode, size, mtime,
 * ctime); comparing stamps costs one (f)stat call, so lookups need not reread the file.
 *
 * Timestamps have a granularity (a clock tick on older Linux kernels, 2 s on FAT), so a change
 * made within the same tick as the stamp we saw can leave an equal stamp. Like git's "racily
 * clean" entries, a stamp observed within one granularity of its own times is not trusted alone:
 * - mtime that recent: an in-place rewrite of the same size could hide, so the next check
 *   compares bytes ('content');
 * - ctime that recent: the file could have been replaced (which only touches the old file's
 *   ctime), so the next check stats the path, not just our open descriptor ('path').
 * Once a stamp is observed well after both, any later change shows as a later time.
 */
import type { Stats } from 'node:fs';

export interface FileStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** Coarse kernel clocks tick every 1-10 ms; the margin also covers their lag behind Date.now(). */
const FINE_GRANULARITY_MS = 25;
/** A whole-second mtime hints at a file system that keeps seconds only (FAT keeps two). */
const COARSE_GRANULARITY_MS = 2_100;

export function stampOf(stats: Stats): FileStamp {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs };
}

export function sameStamp(a: FileStamp, b: Stats | FileStamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.dev === b.dev;
}

/** How much a stamp observed at `observedAt` (Date.now() taken before the stat) can hide. */
export type Doubt = 'none' | 'path' | 'content';

export function doubtOf(stamp: FileStamp, observedAt: number): Doubt {
  const granularity = stamp.mtimeMs % 1000 === 0 ? COARSE_GRANULARITY_MS : FINE_GRANULARITY_MS;
  if (observedAt - stamp.mtimeMs <= granularity) return 'content';
  if (observedAt - stamp.ctimeMs <= granularity) return 'path';
  return 'none';
}
