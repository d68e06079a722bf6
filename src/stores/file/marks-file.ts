/**
 * FileStore's re-authorization marks (reauth-marks.ts): a JSON sidecar beside the token file,
 * `<token file>.marks.json`, so the token file keeps exactly the layout the official SDKs read.
 * Written like the token file (temp file, fsync, rename; mode 0600) by the caller, under a lock;
 * removed when the last mark is cleared. Its content is data: each mark is validated on reading.
 *
 *   { "version": 1, "marks": [ { "tokenId": "1", "refreshTokenHash": "<sha256 hex>", "reason": "invalid_code", "markedAt": 1765100000000 } ] }
 */
import { readFileSync, statSync, unlinkSync } from 'node:fs';
import { type ReauthMark, readReauthMark, warnMalformedReauthMark } from '../../reauth-marks.js';
import { writeFileAtomicSync } from './atomic-write.js';

/** A sidecar larger than this is not ours (a few hundred bytes a mark): it is not read. */
const MAX_BYTES = 4 * 1024 * 1024;

export function marksPathOf(tokenFile: string): string {
  return `${tokenFile}.marks.json`;
}

export class MarksFile {
  constructor(readonly path: string) {}

  /** The well-formed marks, one per token (a repeated id: the last wins); none when there is no file. */
  read(): ReauthMark[] {
    const where = `re-authorization marks file ${this.path}`;
    const size = statSync(this.path, { throwIfNoEntry: false })?.size;
    if (size === undefined) return [];
    if (size > MAX_BYTES) {
      warnMalformedReauthMark(where, `the file is ${size} bytes, more than the ${MAX_BYTES} a marks file can be; no mark was read`);
      return [];
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      if (!(error instanceof SyntaxError)) throw error;
      warnMalformedReauthMark(where, 'the file is not JSON; no mark was read');
      return [];
    }
    const list = (parsed as { version?: unknown; marks?: unknown } | null)?.marks;
    if ((parsed as { version?: unknown } | null)?.version !== 1 || !Array.isArray(list)) {
      warnMalformedReauthMark(where, 'expected { "version": 1, "marks": [...] }; no mark was read');
      return [];
    }
    const byId = new Map<string, ReauthMark>();
    for (const entry of list) {
      const mark = readReauthMark(entry, where);
      if (mark) byId.set(mark.tokenId, mark);
    }
    return [...byId.values()];
  }

  /** Replaces the file with these marks (atomically, mode 0600), or removes it when there are none. */
  write(marks: readonly ReauthMark[]): void {
    if (marks.length === 0) {
      try {
        unlinkSync(this.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      return;
    }
    const text = `${JSON.stringify({ version: 1, marks }, null, 2)}\n`;
    writeFileAtomicSync(this.path, [Buffer.from(text, 'utf8')]);
  }
}
