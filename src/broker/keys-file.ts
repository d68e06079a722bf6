/**
 * The broker's keys file: one entry per client key, holding its name, its grants and the SHA-256
 * of the key, never the key. A key is 32 random bytes (256 bits), so a fast hash is enough: there
 * is nothing to brute-force. A presented key is hashed and compared with every entry in constant
 * time (crypto.timingSafeEqual, all entries, no early exit). The file is JSON, mode 0600.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ZTokenError } from '../errors.js';
import { writeFileAtomicSync } from '../stores/file/atomic-write.js';

export interface KeyGrants {
  /** Every token of the store. */
  all: boolean;
  ids: string[];
  users: string[];
}

export interface BrokerKey {
  name: string;
  /** `sha256:<64 hex>` of the key text. */
  hash: string;
  grants: KeyGrants;
  created: string;
}

interface KeysFileJson {
  version: 1;
  keys: BrokerKey[];
}

/** What every key starts with, so a leaked one is recognizable (and scrubbable) in a text. */
export const KEY_PREFIX = 'ztk_';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HASH = /^sha256:[0-9a-f]{64}$/;

function keysError(message: string): ZTokenError {
  return new ZTokenError('BROKER', 'INVALID_KEYS_FILE', message);
}

export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** A new key: `ztk_` + 43 base64url characters of 32 random bytes. */
export function newKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

function parseEntry(entry: unknown, where: string): BrokerKey {
  if (!entry || typeof entry !== 'object') throw keysError(`${where} is not an object`);
  const e = entry as Record<string, unknown>;
  if (typeof e.name !== 'string' || !NAME.test(e.name)) throw keysError(`${where}: name must be 1-64 of A-Z a-z 0-9 . _ -`);
  if (typeof e.hash !== 'string' || !HASH.test(e.hash)) throw keysError(`${where} (${e.name}): hash must be sha256:<64 hex>`);
  const g = (e.grants ?? {}) as Record<string, unknown>;
  const list = (value: unknown, field: string): string[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
      throw keysError(`${where} (${e.name}): grants.${field} must be a list of non-empty strings`);
    }
    return value as string[];
  };
  const grants: KeyGrants = { all: g.all === true, ids: list(g.ids, 'ids'), users: list(g.users, 'users') };
  if (!grants.all && grants.ids.length === 0 && grants.users.length === 0) {
    throw keysError(`${where} (${e.name}) grants nothing: give it ids, users or all`);
  }
  return { name: e.name, hash: e.hash, grants, created: typeof e.created === 'string' ? e.created : '' };
}

/** Reads and checks a keys file; a missing file is an empty list only when `allowMissing`. */
export function readKeysFile(path: string, options: { allowMissing?: boolean } = {}): BrokerKey[] {
  if (!existsSync(path)) {
    if (options.allowMissing) return [];
    throw keysError(`The keys file ${path} does not exist (create it with: ztoken serve-key add --keys ${path} --name NAME --allow-all)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw keysError(`The keys file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const file = json as Partial<KeysFileJson>;
  if (file?.version !== 1 || !Array.isArray(file.keys)) throw keysError(`The keys file ${path} must be {"version":1,"keys":[...]}`);
  const keys = file.keys.map((entry, i) => parseEntry(entry, `${path}: keys[${i}]`));
  const names = new Set<string>();
  for (const key of keys) {
    if (names.has(key.name)) throw keysError(`${path}: the key name ${key.name} appears twice`);
    names.add(key.name);
  }
  return keys;
}

/** Writes the list atomically, mode 0600 (also when the file existed with a wider mode). */
export function writeKeysFile(path: string, keys: BrokerKey[]): void {
  const body: KeysFileJson = { version: 1, keys };
  writeFileAtomicSync(path, [Buffer.from(`${JSON.stringify(body, null, 2)}\n`, 'utf8')]);
}

/** Adds a key named `name` with these grants; returns the key text (shown once, never stored). */
export function addKey(path: string, name: string, grants: KeyGrants, now = new Date()): string {
  if (!NAME.test(name)) throw keysError(`The key name ${JSON.stringify(name.slice(0, 70))} must be 1-64 of A-Z a-z 0-9 . _ -`);
  const keys = readKeysFile(path, { allowMissing: true });
  if (keys.some((k) => k.name === name)) throw keysError(`${path} already has a key named ${name}: pick another name or remove it first`);
  const key = newKey();
  keys.push(parseEntry({ name, hash: hashKey(key), grants, created: now.toISOString() }, `the new key ${name}`));
  writeKeysFile(path, keys);
  return key;
}

/** Removes the key named `name`; false if there was none. */
export function removeKey(path: string, name: string): boolean {
  const keys = readKeysFile(path);
  const kept = keys.filter((k) => k.name !== name);
  if (kept.length === keys.length) return false;
  writeKeysFile(path, kept);
  return true;
}

/** The loaded keys, and the one constant-time lookup of a presented key. */
export class KeyRing {
  private readonly digests: { key: BrokerKey; digest: Buffer }[];
  constructor(readonly keys: readonly BrokerKey[]) {
    this.digests = keys.map((key) => ({ key, digest: Buffer.from(key.hash.slice('sha256:'.length), 'hex') }));
  }

  get size(): number {
    return this.digests.length;
  }

  /** The key whose hash matches, or null. Every entry is compared, in constant time each. */
  find(presented: string): BrokerKey | null {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: BrokerKey | null = null;
    for (const entry of this.digests) {
      if (timingSafeEqual(entry.digest, digest) && found === null) found = entry.key;
    }
    return found;
  }
}
