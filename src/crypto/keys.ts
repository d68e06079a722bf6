/**
 * Encryption keys: parsing, validation and loading (environment variable or key file), and
 * generation. A key is 32 random bytes with a short id; the last key of a list encrypts new
 * writes, every key of the list can read. No error message ever prints a key, and since a
 * mistyped entry may put the key where the id belongs, an invalid id is not printed either.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { TokenStoreError } from '../errors.js';

/** A key as users configure it: raw bytes or base64 (standard or URL-safe). */
export interface EncryptionKey {
  id: string;
  key: Buffer | string;
}

/** A validated key: its 32 bytes. */
export interface ParsedKey {
  id: string;
  key: Buffer;
}

/** The environment variable `loadKeysFromEnv` reads: `id1:base64,id2:base64`. */
export const KEYS_ENV_VAR = 'ZTOKEN_KEYS';
export const KEY_BYTES = 32;
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}$/;

function invalid(message: string): TokenStoreError {
  return new TokenStoreError('INVALID_ARGUMENT', message);
}

/** Checks a key id; `position` names it without printing it (it may be a misplaced key). */
export function validateKeyId(id: unknown, position: string): string {
  if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) {
    const what = typeof id === 'string' ? `${id.length} characters` : typeof id;
    throw invalid(`Invalid key id (${position}, ${what}): a key id is 1 to 32 characters of A-Z a-z 0-9 _ -`);
  }
  return id;
}

/** Decodes and checks one key; errors name the key id and where it came from, never the key. */
export function parseKey(entry: EncryptionKey, source: string, position = source): ParsedKey {
  if (typeof entry !== 'object' || entry === null) throw invalid(`Invalid key (${position}): expected { id, key }`);
  const id = validateKeyId(entry.id, position);
  const named = `Key "${id}" (${source})`;
  let bytes: Buffer;
  if (Buffer.isBuffer(entry.key)) {
    bytes = Buffer.from(entry.key);
  } else if (typeof entry.key === 'string') {
    const text = entry.key.trim();
    if (!BASE64.test(text)) throw invalid(`${named} is not valid base64`);
    bytes = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  } else {
    throw invalid(`${named} must be a Buffer or a base64 string, got ${entry.key === null ? 'null' : typeof entry.key}`);
  }
  if (bytes.length !== KEY_BYTES) {
    throw invalid(`${named} is ${bytes.length} bytes long; keys must be exactly ${KEY_BYTES} bytes (generate one with generateKey())`);
  }
  return { id, key: bytes };
}

/** Validates a whole key list: at least one key, no duplicate ids. The order is kept. */
export function parseKeys(keys: readonly EncryptionKey[], source: string): ParsedKey[] {
  if (!Array.isArray(keys) || keys.length === 0) throw invalid(`No encryption keys in ${source}: at least one { id, key } is required`);
  const parsed = keys.map((entry, i) => parseKey(entry, source, `key ${i + 1} of ${source}`));
  assertUniqueIds(parsed, source);
  return parsed;
}

function assertUniqueIds(keys: readonly ParsedKey[], source: string): void {
  const seen = new Set<string>();
  for (const { id } of keys) {
    if (seen.has(id)) throw invalid(`Duplicate key id "${id}" in ${source}: every key needs its own id`);
    seen.add(id);
  }
}

/**
 * Parses the text format shared by ZTOKEN_KEYS and key files: `id:base64` entries separated by
 * commas or new lines; `#` starts a comment. `source` names the variable or file in errors;
 * `byLine` names positions as `file:line` (key files) rather than `entry N of VAR`.
 */
export function parseKeyText(text: string, source: string, byLine = false): ParsedKey[] {
  const keys: ParsedKey[] = [];
  let entryNumber = 0;
  text.split(/\r?\n/).forEach((rawLine, lineIndex) => {
    for (const rawEntry of rawLine.replace(/#.*$/, '').split(',')) {
      const entry = rawEntry.trim();
      if (entry === '') continue;
      entryNumber++;
      const position = byLine ? `${source}:${lineIndex + 1}` : `entry ${entryNumber} of ${source}`;
      const colon = entry.indexOf(':');
      if (colon < 0) throw invalid(`Invalid key entry (${position}): expected id:base64`);
      keys.push(parseKey({ id: entry.slice(0, colon).trim(), key: entry.slice(colon + 1).trim() }, position, position));
    }
  });
  if (keys.length === 0) throw invalid(`No encryption keys in ${source}: expected id:base64 entries`);
  assertUniqueIds(keys, source);
  return keys;
}

/** Keys from `ZTOKEN_KEYS` (`id1:base64,id2:base64`; the last one encrypts new writes). */
export function loadKeysFromEnv(env: Record<string, string | undefined> = process.env): ParsedKey[] {
  const value = env[KEYS_ENV_VAR];
  if (value === undefined || value.trim() === '') {
    throw invalid(`${KEYS_ENV_VAR} is not set: expected id:base64 entries separated by commas (the last one encrypts new writes)`);
  }
  return parseKeyText(value, KEYS_ENV_VAR);
}

/**
 * Keys from a key file (same format, one per line or comma-separated, `#` comments). Like ssh
 * with a private key, a file that group or others can read or write is refused.
 */
export function loadKeysFromFile(path: string): ParsedKey[] {
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    // fstat on the open descriptor: the mode checked is the mode of the file read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw invalid(`Key file ${path} is not a regular file`);
    const loose = stat.mode & 0o077;
    if (loose !== 0 && process.platform !== 'win32') {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw invalid(
        `Key file ${path} has mode ${mode}: it must not be accessible to group or others (mode 0600 or stricter; run chmod 600 ${path})`,
      );
    }
    text = readFileSync(fd, 'utf8');
  } catch (error) {
    if (error instanceof TokenStoreError) throw error;
    throw new TokenStoreError('UNAVAILABLE', `Cannot read key file ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return parseKeyText(text, path, true);
}

/** A new random key, and the line to add to a key file or to ZTOKEN_KEYS. */
export function generateKey(id?: string): { id: string; key: Buffer; line: string } {
  const keyId = id === undefined ? defaultKeyId() : validateKeyId(id, 'generateKey');
  const key = randomBytes(KEY_BYTES);
  return { id: keyId, key, line: `${keyId}:${key.toString('base64')}` };
}

/** `k20260501-3f9a`: sortable by date, unlikely to collide with another key made the same day. */
function defaultKeyId(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  return `k${day}-${randomBytes(2).toString('hex')}`;
}
