import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKey, loadKeysFromEnv, loadKeysFromFile, parseKeys } from '../../src/crypto/keys.js';
import { TokenStoreError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64url');

/** The error a call throws; asserts it is a TokenStoreError and does not print `secret`. */
function errorOf(fn: () => unknown, secret?: string): TokenStoreError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TokenStoreError);
  const error = caught as TokenStoreError;
  if (secret) expect(error.message).not.toContain(secret);
  return error;
}

function keyFile(name: string, text: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  chmodSync(path, mode); // the umask may have narrowed it
  return path;
}

describe('key lists', () => {
  it('accepts Buffers and base64 (standard or URL-safe), keeping the order', () => {
    const keys = parseKeys(
      [
        { id: 'old', key: Buffer.alloc(32, 7) },
        { id: 'k_2-B', key: K1 },
        { id: 'new', key: K2 },
      ],
      'test',
    );
    expect(keys.map((k) => k.id)).toEqual(['old', 'k_2-B', 'new']);
    expect(keys[1]?.key).toEqual(Buffer.alloc(32, 1));
    expect(keys[2]?.key).toEqual(Buffer.alloc(32, 2));
  });

  it('refuses bad base64, naming the key id and not printing the key', () => {
    const bad = 'not*base64*at*all!!';
    const error = errorOf(() => parseKeys([{ id: 'k1', key: bad }], 'test'), bad);
    expect(error.reason).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('"k1"');
    expect(error.message).toContain('base64');
  });

  it('refuses a 31-byte or 33-byte key, naming the id and the length', () => {
    const short = Buffer.alloc(31, 9).toString('base64');
    const error = errorOf(() => parseKeys([{ id: 'short', key: short }], 'test'), short);
    expect(error.message).toMatch(/Key "short" .* is 31 bytes long; keys must be exactly 32 bytes/);
    expect(errorOf(() => parseKeys([{ id: 'long', key: Buffer.alloc(33) }], 'test')).message).toContain('33 bytes');
  });

  it('refuses duplicate ids, bad ids and an empty list', () => {
    expect(
      errorOf(() =>
        parseKeys(
          [
            { id: 'a', key: K1 },
            { id: 'a', key: K2 },
          ],
          'test',
        ),
      ).message,
    ).toContain('Duplicate key id "a"');
    for (const id of ['', 'has space', 'colon:id', 'x'.repeat(33), 'é']) {
      expect(errorOf(() => parseKeys([{ id, key: K1 }], 'test')).message).toMatch(/Invalid key id .*1 to 32 characters/);
    }
    // A key pasted where the id belongs is not echoed.
    expect(errorOf(() => parseKeys([{ id: K1, key: 'k1' }], 'test'), K1).message).toContain('Invalid key id');
    expect(errorOf(() => parseKeys([], 'test')).message).toContain('No encryption keys');
  });
});

describe('loadKeysFromEnv', () => {
  it('reads ZTOKEN_KEYS: id:base64 entries separated by commas, the last one newest', () => {
    const keys = loadKeysFromEnv({ ZTOKEN_KEYS: ` k1:${K1} , k2:${K2} ` });
    expect(keys.map((k) => k.id)).toEqual(['k1', 'k2']);
    expect(keys[0]?.key).toEqual(Buffer.alloc(32, 1));
  });

  it('says clearly when the variable is missing or malformed, never printing a key', () => {
    expect(errorOf(() => loadKeysFromEnv({})).message).toContain('ZTOKEN_KEYS is not set');
    const noId = errorOf(() => loadKeysFromEnv({ ZTOKEN_KEYS: `k1:${K1},${K2}` }), K2);
    expect(noId.message).toContain('entry 2 of ZTOKEN_KEYS');
    expect(noId.message).toContain('expected id:base64');
    const dup = errorOf(() => loadKeysFromEnv({ ZTOKEN_KEYS: `k1:${K1},k1:${K2}` }), K1);
    expect(dup.message).toContain('Duplicate key id "k1" in ZTOKEN_KEYS');
  });
});

describe('loadKeysFromFile', () => {
  const text = `# keys for the token store\nk1:${K1}   # retired next month\n\nk2:${K2}\n`;

  it('reads a 0600 file: one key per line, comments and blank lines ignored', () => {
    const keys = loadKeysFromFile(keyFile('good.keys', text, 0o600));
    expect(keys.map((k) => k.id)).toEqual(['k1', 'k2']);
    expect(keys[1]?.key).toEqual(Buffer.alloc(32, 2));
    expect(loadKeysFromFile(keyFile('owner-read.keys', `a:${K1},b:${K2}`, 0o400)).map((k) => k.id)).toEqual(['a', 'b']);
  });

  it.skipIf(process.platform === 'win32')('refuses a file readable by group or others, naming the path and its mode', () => {
    const path = keyFile('open.keys', text, 0o644);
    const error = errorOf(() => loadKeysFromFile(path), K1);
    expect(error.reason).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain(path);
    expect(error.message).toContain('mode 0644');
    expect(error.message).toContain('chmod 600');
    expect(errorOf(() => loadKeysFromFile(keyFile('group.keys', text, 0o640))).message).toContain('mode 0640');
  });

  it('names the file and line of a bad entry', () => {
    const path = keyFile('bad.keys', `k1:${K1}\nk2:${Buffer.alloc(31).toString('base64')}\n`, 0o600);
    const error = errorOf(() => loadKeysFromFile(path));
    expect(error.message).toContain(`${path}:2`);
    expect(error.message).toContain('"k2"');
  });

  it('a missing file is an error naming the path', () => {
    const path = join(dir, 'nope.keys');
    const error = errorOf(() => loadKeysFromFile(path));
    expect(error.reason).toBe('UNAVAILABLE');
    expect(error.message).toContain(path);
  });
});

describe('generateKey', () => {
  it('makes 32 random bytes with a valid id and the line for a key file', () => {
    const a = generateKey();
    const b = generateKey('prod-2026');
    expect(a.key).toHaveLength(32);
    expect(a.key.equals(b.key)).toBe(false);
    expect(a.id).toMatch(/^k\d{8}-[0-9a-f]{4}$/);
    expect(b.line).toBe(`prod-2026:${b.key.toString('base64')}`);
    const path = keyFile('generated.keys', `${a.line}\n${b.line}\n`, 0o600);
    expect(loadKeysFromFile(path)).toEqual([
      { id: a.id, key: a.key },
      { id: 'prod-2026', key: b.key },
    ]);
    expect(() => generateKey('bad id')).toThrow(TokenStoreError);
  });
});
