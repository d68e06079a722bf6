/**
 * FileStore: Zoho's CSV token file (default `sdk_tokens.txt`), readable and writable by the
 * official SDKs, made safe for many processes:
 * - reads and writes the layout of every official SDK (file/layouts.ts): it detects a file's
 *   layout from its header and keeps writing it, so the SDK sharing the file still reads it; a
 *   new file gets the `layout` option's. Values the SDK's comma split would misread are refused;
 *   columns the layout lacks are kept in memory for the life of the store;
 * - never rewrites in place: temp file, fsync, rename, fsync the folder; mode 0600;
 * - every read-modify-write runs under a lock file beside the token file, taken over at once
 *   from a holder that died on this host and after `lockStaleMs` from any other;
 * - lookups use an in-memory index, refreshed only when stat says the file changed (see
 *   file/file-stamp.ts), so findToken costs one stat call;
 * - a file it cannot parse is a CORRUPT error naming file and line, and is never overwritten.
 *
 * File I/O is synchronous from the check of the file to the rename of the new one, so callers
 * in this process never see a half-applied change; only the lock waits are asynchronous.
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TokenStoreError } from '../errors.js';
import { checkReauthMark, inTokenIdOrder, type ReauthMark } from '../reauth-marks.js';
import type { ReauthMarkStore, TokenStore } from '../store.js';
import {
  compareIds,
  copyToken,
  locateForSave,
  lookupRuleOf,
  MAX_LAYOUT_ID_LENGTH,
  nextIdAfter,
  normalizeTokenForSave,
  type OAuthToken,
  type StoredToken,
  tokenToStore,
  validateId,
} from '../token.js';
import { ClosedGuard } from './closed.js';
import { writeFileAtomicSync } from './file/atomic-write.js';
import { FileImage } from './file/file-image.js';
import { FileLock, GUARD_STALE_MS } from './file/file-lock.js';
import { FileView, type Observation } from './file/file-view.js';
import { KeptFields } from './file/kept-fields.js';
import { MarksFile, marksPathOf } from './file/marks-file.js';
import { checkWritable, DEFAULT_FILE_LAYOUT, FILE_LAYOUTS, type FileLayout, type FileLayoutName, layoutNamed } from './file/layouts.js';
import { SerialQueue } from './file/serial-queue.js';
import { removeOrphanTempFiles } from './file/temp-files.js';
import { type IdRepair, planIdRepair } from './file/repair-ids.js';
import { corruptFile, duplicateId, type ParsedTokens, parseTokenFile } from './file/token-file.js';
import { acquireWithRetry, newLockOwner, validateLockArgs } from './lock.js';
import { positiveOption } from './options.js';
import type { StoreUrl } from './url-params.js';

export interface FileStoreOptions {
  /** The token file. Default 'sdk_tokens.txt' (Zoho's default), relative to the working folder. */
  path?: string;
  /**
   * A write lock held longer than this is taken over (its holder is presumed hung), and a writer
   * that held it longer gives up instead of writing. A holder that died on this host is taken
   * over at once. Default 10,000 ms.
   */
  lockStaleMs?: number;
  /** How long a write waits for the lock before failing with LOCK_TIMEOUT. Default max(5 s, 2 × lockStaleMs). */
  lockWaitMs?: number;
  /** Create the file at the first save when missing (default true); false: a missing file fails with NOT_FOUND. */
  create?: boolean;
  /**
   * The layout of a new (or empty) file: 'ts-8' (default: typescript-sdk 6.0 to 8.0), 'nodejs-8'
   * (nodejs-sdk 7.0 and 8.0), 'v2' (typescript-sdk 2.0/2.1, nodejs-sdk 2.0), 'zcrmsdk' (1.x) or
   * 'python'. An existing file keeps the layout its header names, whatever this says.
   */
  layout?: FileLayoutName;
}

/** How many times the store touched the file (for tests and monitoring). */
export interface FileActivity {
  /** Whole-file reads (a change was seen, or a racy stamp was verified). */
  reads: number;
  /** Parses of the file's content into tokens. */
  parses: number;
  /** Atomic rewrites of the file. */
  writes: number;
}

export const DEFAULT_TOKEN_FILE = 'sdk_tokens.txt';
const DEFAULT_LOCK_STALE_MS = 10_000;
/** The withLock key around every rewrite of the marks sidecar. */
const MARKS_LOCK_KEY = 'ztoken:reauth-marks';

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** The lock file that `withLock(key)` uses beside the token file. */
export function keyLockPath(tokenFile: string, key: string): string {
  return `${tokenFile}.${createHash('sha1').update(key).digest('hex')}.lock`;
}

/** The lock file around every read-modify-write of the token file. */
export function writeLockPath(tokenFile: string): string {
  return `${tokenFile}.lock`;
}

export class FileStore implements TokenStore, ReauthMarkStore {
  /** The token file, absolute. */
  readonly path: string;
  private readonly lockStaleMs: number;
  private readonly lockWaitMs: number;
  private readonly writeLock: FileLock;
  private readonly guard = new ClosedGuard('FileStore');
  private readonly writes = new SerialQueue();
  private readonly view: FileView;
  /** The layout a new file gets. */
  private readonly newLayout: FileLayout;
  private image: FileImage;
  private readonly kept = new KeptFields();
  /** The re-authorization marks sidecar (file/marks-file.ts). */
  private readonly marksFile: MarksFile;
  /** Set when the file could not be parsed: every call fails with it until the file changes. */
  private corrupt: TokenStoreError | null = null;
  private orphansRemoved = false;
  private parses = 0;
  private writeCount = 0;

  constructor(options: FileStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TokenStoreError('INVALID_ARGUMENT', 'Invalid FileStore options: expected an object');
    }
    this.path = resolveTokenFile(options.path ?? DEFAULT_TOKEN_FILE);
    this.newLayout = FILE_LAYOUTS[layoutNamed(options.layout ?? DEFAULT_FILE_LAYOUT)];
    this.image = new FileImage(this.newLayout);
    this.lockStaleMs = positiveOption('FileStore', 'lockStaleMs', options.lockStaleMs, DEFAULT_LOCK_STALE_MS, 'ms');
    this.lockWaitMs = positiveOption('FileStore', 'lockWaitMs', options.lockWaitMs, Math.max(5_000, 2 * this.lockStaleMs), 'ms');
    if (options.create === false && !existsSync(this.path)) {
      throw new TokenStoreError('NOT_FOUND', `No token file at ${this.path}: opened with create: false, so none will be created`);
    }
    this.writeLock = new FileLock(writeLockPath(this.path));
    this.view = new FileView(this.path);
    this.marksFile = new MarksFile(marksPathOf(this.path));
  }

  async findToken(partial: OAuthToken): Promise<StoredToken | null> {
    this.guard.check();
    const rule = lookupRuleOf(partial);
    if (!rule) return null;
    this.refresh();
    const found = this.image.find(rule.field, rule.value);
    return found ? copyToken(found) : null;
  }

  async findTokenById(id: string): Promise<StoredToken | null> {
    this.guard.check();
    const valid = validateId(id);
    this.refresh();
    const found = this.image.find('id', valid);
    return found ? copyToken(found) : null;
  }

  async getTokens(): Promise<StoredToken[]> {
    this.guard.check();
    this.refresh();
    return this.image
      .tokens()
      .sort((a, b) => compareIds(a.id, b.id))
      .map(copyToken);
  }

  async saveToken(input: OAuthToken): Promise<StoredToken> {
    this.guard.check();
    const token = normalizeTokenForSave(input);
    return this.mutate('saveToken', (image) => {
      const layout = image.layout;
      checkWritable(layout, token);
      const existing = locateRow(image, token);
      // Where ids are row numbers, a new token takes the next row whatever id it asks for.
      const id = existing?.id ?? (layout.ids === 'row' ? undefined : token.id) ?? nextIdAfter(image.maxNumericId());
      const stored = tokenToStore(token, id);
      image.put(stored);
      this.kept.remember(layout, stored, existing);
      return { result: copyToken(stored), write: true };
    });
  }

  async deleteToken(id: string): Promise<void> {
    this.guard.check();
    const valid = validateId(id);
    this.refresh();
    if (!this.image.find('id', valid)) return; // nothing to delete: no lock, no write
    await this.mutate('deleteToken', (image) => {
      const old = image.find('id', valid);
      if (old) this.kept.forget(old);
      return { result: undefined, write: image.delete(valid) };
    });
  }

  async deleteTokens(): Promise<void> {
    this.guard.check();
    await this.mutate('deleteTokens', (image) => {
      image.clear();
      this.kept.clear();
      return { result: undefined, write: true };
    });
  }

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    this.guard.check();
    validateLockArgs(key, ttlMs);
    const lock = new FileLock(keyLockPath(this.path, key));
    const owner = newLockOwner();
    await acquireWithRetry(
      () => this.io('withLock', 'UNAVAILABLE', () => lock.tryAcquire(owner, ttlMs) !== null),
      key,
      ttlMs,
      this.where(),
    );
    try {
      return await fn();
    } finally {
      await this.release(lock, owner);
    }
  }

  /** ReauthMarkStore: the sidecar `<token file>.marks.json`, rewritten atomically under a lock. */
  async setReauthMark(mark: ReauthMark): Promise<void> {
    this.guard.check();
    const clean = checkReauthMark(mark);
    await this.updateMarks('setReauthMark', (marks) => [...marks.filter((m) => m.tokenId !== clean.tokenId), clean]);
  }

  async getReauthMark(tokenId: string): Promise<ReauthMark | null> {
    this.guard.check();
    const id = validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH);
    return this.readMarks('getReauthMark').find((mark) => mark.tokenId === id) ?? null;
  }

  async getReauthMarks(): Promise<ReauthMark[]> {
    this.guard.check();
    return inTokenIdOrder(this.readMarks('getReauthMarks'));
  }

  async clearReauthMark(tokenId: string): Promise<void> {
    this.guard.check();
    const id = validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH);
    if (!this.readMarks('clearReauthMark').some((mark) => mark.tokenId === id)) return; // nothing to clear: no lock, no write
    await this.updateMarks('clearReauthMark', (marks) => marks.filter((m) => m.tokenId !== id));
  }

  private readMarks(operation: string): ReauthMark[] {
    return this.io(operation, 'UNAVAILABLE', () => this.marksFile.read());
  }

  private updateMarks(operation: string, change: (marks: ReauthMark[]) => ReauthMark[]): Promise<void> {
    return this.withLock(MARKS_LOCK_KEY, this.lockStaleMs, async () =>
      this.io(operation, 'WRITE_FAILED', () => this.marksFile.write(change(this.marksFile.read()))),
    );
  }

  async close(): Promise<void> {
    if (this.guard.close()) {
      this.image = new FileImage(this.newLayout);
      this.view.close();
    }
  }

  /**
   * Gives every row that repeats an earlier row's id a new id (the largest numeric id + 1, in file
   * order; file/repair-ids.ts), keeping every row and every other value: the repair for a file
   * typescript-sdk 6.0/7.0 wrote (their repeated id 10), which the store otherwise refuses as
   * CORRUPT. One atomic rewrite under the write lock; `dryRun` only reads, and answers the same list.
   */
  async repairDuplicateIds(options: { dryRun?: boolean } = {}): Promise<IdRepair[]> {
    this.guard.check();
    if (options.dryRun) return planIdRepair(this.readFileFresh('repairDuplicateIds')).repairs;
    return this.locked('repairDuplicateIds', (lockExpiresAt) => {
      const parsed = this.readFileFresh('repairDuplicateIds');
      const { tokens, repairs } = planIdRepair(parsed);
      if (repairs.length === 0) return repairs;
      this.kept.fill(tokens);
      this.image = FileImage.of(parsed.layout ?? this.newLayout, parsed.header, tokens, (index) => {
        throw duplicateId(this.path, { ...parsed, tokens }, index);
      });
      this.corrupt = null;
      this.writeImage('repairDuplicateIds', lockExpiresAt);
      return repairs;
    });
  }

  /** The file parsed as it is now, ids unchecked (a missing file is NOT_FOUND). */
  private readFileFresh(operation: string): ParsedTokens {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new TokenStoreError('NOT_FOUND', `No token file at ${this.path}`);
      throw this.fsError(operation, 'UNAVAILABLE', error);
    }
    return parseTokenFile(decodeUtf8(bytes, this.path), this.path);
  }

  /** The layout of the file as last read (or the one a new file gets): see FileStoreOptions.layout. */
  get layout(): FileLayoutName {
    return this.image.layout.name;
  }

  /** How often this store read, parsed and wrote the file. */
  fileActivity(): FileActivity {
    return { reads: this.view.reads, parses: this.parses, writes: this.writeCount };
  }

  /**
   * Runs a read-modify-write under the write lock, one at a time in this process: re-reads the
   * file if it changed, applies `change` to the image, and writes the file if asked.
   */
  private mutate<T>(operation: string, change: (image: FileImage) => { result: T; write: boolean }): Promise<T> {
    return this.locked(operation, (lockExpiresAt) => {
      this.refresh(true);
      if (!this.orphansRemoved) {
        this.orphansRemoved = true;
        removeOrphanTempFiles(this.path);
      }
      const { result, write } = change(this.image);
      if (write) this.writeImage(operation, lockExpiresAt);
      return result;
    });
  }

  /** Runs `fn` under the write lock, one at a time in this process; `fn` gets the time the lock expires. */
  private locked<T>(operation: string, fn: (lockExpiresAt: number) => T): Promise<T> {
    return this.writes.run(async () => {
      this.guard.check();
      const owner = newLockOwner();
      let expiresAt = 0;
      await acquireWithRetry(
        () =>
          this.io(operation, 'UNAVAILABLE', () => {
            expiresAt = this.writeLock.tryAcquire(owner, this.lockStaleMs)?.expiresAt ?? 0;
            return expiresAt !== 0;
          }),
        operation,
        this.lockStaleMs,
        this.where(),
        this.lockWaitMs,
      );
      try {
        this.guard.check(); // closed while we waited
        return fn(expiresAt);
      } finally {
        await this.release(this.writeLock, owner);
      }
    });
  }

  /** Writes the image atomically and adopts the new file's stamp, so we never reread our own write. */
  private writeImage(operation: string, lockExpiresAt: number): void {
    try {
      const parts = this.image.encode();
      const written = writeFileAtomicSync(this.path, parts, {
        keepOpen: true,
        beforeRename: () => {
          if (Date.now() >= lockExpiresAt) {
            throw new TokenStoreError(
              'LOCK_TIMEOUT',
              `Exception in ${operation} - FileStore (${this.where()}): the write took longer than lockStaleMs (${this.lockStaleMs} ms), so another process may have taken the lock; nothing was written`,
            );
          }
        },
      });
      this.writeCount++;
      this.view.adoptWrite(written.fd!, written.stats, written.observedAt);
    } catch (error) {
      // The image holds a change the file does not: forget both and reread next time.
      this.view.forget();
      this.image = new FileImage(this.newLayout);
      this.corrupt = null;
      if (error instanceof TokenStoreError) throw error;
      throw this.fsError(operation, 'WRITE_FAILED', error);
    }
  }

  /** Brings the image up to date with the file: one fstat when nothing changed (a stat too when `strict`). */
  private refresh(strict = false): void {
    let seen: Observation;
    try {
      seen = this.view.observe(strict);
    } catch (error) {
      throw this.fsError('read', 'UNAVAILABLE', error);
    }
    if (seen.kind === 'unchanged') {
      if (this.corrupt) throw this.corrupt;
      return;
    }
    this.corrupt = null;
    this.image = new FileImage(this.newLayout);
    if (seen.kind === 'missing') return;
    this.parses++;
    try {
      const parsed = parseTokenFile(decodeUtf8(seen.bytes, this.path), this.path);
      this.kept.fill(parsed.tokens);
      this.image = FileImage.of(parsed.layout ?? this.newLayout, parsed.header, parsed.tokens, (index) => {
        throw duplicateId(this.path, parsed, index);
      });
    } catch (error) {
      this.corrupt = error instanceof TokenStoreError ? error : corruptFile(this.path, 1, (error as Error).message);
      throw this.corrupt;
    }
  }

  /** Releases a lock we hold; a guard busy for a moment is retried, a failure leaves the lock to expire. */
  private async release(lock: FileLock, owner: string): Promise<void> {
    const giveUpAt = Date.now() + 2 * GUARD_STALE_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
      try {
        if (lock.release(owner) !== 'busy') return;
      } catch {
        return;
      }
      if (Date.now() > giveUpAt) return;
      await sleep(pause);
    }
  }

  /** Runs file system work, turning its errors into TokenStoreErrors that name the file. */
  private io<T>(operation: string, reason: 'UNAVAILABLE' | 'WRITE_FAILED', fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof TokenStoreError) throw error;
      throw this.fsError(operation, reason, error);
    }
  }

  private fsError(operation: string, reason: 'UNAVAILABLE' | 'WRITE_FAILED', error: unknown): TokenStoreError {
    // File system errors carry paths and codes, never file content, so they are safe to pass on.
    const message = (error as Error).message ?? String(error);
    return new TokenStoreError(reason, `Exception in ${operation} - FileStore (${this.where()}): ${message}`, { cause: error });
  }

  private where(): string {
    return `token file ${this.path}`;
  }
}

function resolveTokenFile(given: unknown): string {
  if (typeof given !== 'string' || given.trim() === '' || given.includes('\u0000')) {
    throw new TokenStoreError('INVALID_ARGUMENT', 'Invalid FileStore path: expected a file path such as "sdk_tokens.txt"');
  }
  let path = resolve(given);
  try {
    path = realpathSync(path); // write beside the real file, not beside a symlink to it
  } catch {
    // Not there yet: it is created on the first write.
  }
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats?.isDirectory()) {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `Invalid FileStore path: ${path} is a folder; expected a file such as ${resolve(path, DEFAULT_TOKEN_FILE)}`,
    );
  }
  if (!stats) {
    const folder = statSync(dirname(path), { throwIfNoEntry: false });
    if (!folder?.isDirectory()) {
      throw new TokenStoreError('UNAVAILABLE', `Cannot use token file ${path}: the folder ${dirname(path)} does not exist`);
    }
  }
  return path;
}

/** The file as text; bytes that are not UTF-8 would be mangled by a rewrite, so they are an error. */
function decodeUtf8(bytes: Buffer, path: string): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let line = 1;
  let start = 0;
  for (let end = bytes.indexOf(10); ; end = bytes.indexOf(10, start)) {
    const stop = end === -1 ? bytes.length : end;
    if (!isUtf8(bytes.subarray(start, stop))) break;
    if (end === -1) break;
    line++;
    start = end + 1;
  }
  throw corruptFile(path, line, 'the file is not valid UTF-8 text');
}

/**
 * Where `saveToken` writes (locateForSave). Where ids are row numbers, which move when a row
 * above is deleted or the official store re-appends a row, an id only counts while the row it
 * names still holds the same token (same user, or same client and refresh or grant token);
 * otherwise the matching rules decide, so a stale id never overwrites someone else's row.
 */
function locateRow(image: FileImage, token: OAuthToken): StoredToken | null {
  const find = (field: Parameters<FileImage['find']>[0], value: string) => image.find(field, value);
  if (image.layout.ids !== 'row' || token.id === undefined) return locateForSave(token, find);
  const byId = image.find('id', token.id);
  if (byId && sameHolder(byId, token)) return byId;
  return locateForSave({ ...token, id: undefined }, find);
}

function sameHolder(row: OAuthToken, token: OAuthToken): boolean {
  if (row.userName || token.userName) return row.userName === token.userName;
  if (row.clientId !== token.clientId) return false;
  return (
    (row.refreshToken !== undefined && row.refreshToken === token.refreshToken) ||
    (row.grantToken !== undefined && row.grantToken === token.grantToken)
  );
}

/** The store a `file:` URL names (see url.ts): `?lockStaleMs=`, `?lockWaitMs=` and `?layout=`, as the options. */
export async function fileStoreFromUrl(url: StoreUrl, create: boolean): Promise<FileStore> {
  const params = url.params(['lockStaleMs', 'lockWaitMs', 'layout']);
  return new FileStore({
    path: url.path(),
    lockStaleMs: params.number('lockStaleMs'),
    lockWaitMs: params.number('lockWaitMs'),
    layout: params.string('layout') as FileLayoutName | undefined,
    create,
  });
}
