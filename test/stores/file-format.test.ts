import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvSyntaxError, formatRow, parseCsv } from '../../src/stores/file/csv.js';
import { BREAKER_STALE_MS, FileLock, GUARD_STALE_MS, UNREADABLE_LOCK_TTL_MS } from '../../src/stores/file/file-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-file-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

describe('token file CSV', () => {
  const cell = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'Z', '0', ',', '"', '\r', '\n', ' ', 'é', '🚀', ';', "'"), maxLength: 12 }),
    fc.string({ maxLength: 12 }),
  );
  it('any rows survive format then parse, cell for cell, with \\n or \\r\\n line ends', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 10, maxLength: 10 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (rows, crlf) => {
          const text = rows.map(formatRow).join(crlf ? '\r\n' : '\n');
          expect(parseCsv(text).map((r) => r.cells)).toEqual(rows);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any text either parses or fails with a CsvSyntaxError', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', ' '), maxLength: 40 }), (text) => {
        try {
          parseCsv(text);
        } catch (error) {
          expect(error).toBeInstanceOf(CsvSyntaxError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('counts lines across quoted line breaks', () => {
    const records = parseCsv('h1,h2\n"a\nb\r\nc",x\n\nlast,"q"');
    expect(records).toEqual([
      { cells: ['h1', 'h2'], line: 1 },
      { cells: ['a\nb\r\nc', 'x'], line: 2 },
      { cells: ['last', 'q'], line: 6 },
    ]);
    expect(() => parseCsv('h\n\n"open,x\nmore')).toThrow(/line 3: a quoted value is never closed/);
  });
});

describe('FileLock', () => {
  const lockPath = () => join(dir, `l${++n}.lock`);

  it('never lets two holders in at once', async () => {
    const path = lockPath();
    let inside = 0;
    let maxInside = 0;
    let entries = 0;
    const contender = async (id: number) => {
      const lock = new FileLock(path);
      for (let round = 0; round < 25; round++) {
        const owner = `c${id}-${round}`;
        while (!lock.tryAcquire(owner, 60_000)) await sleep(Math.random() * 2);
        inside++;
        entries++;
        maxInside = Math.max(maxInside, inside);
        await sleep(Math.random() * 2);
        inside--;
        while (lock.release(owner) === 'busy') await sleep(1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => contender(i)));
    expect(entries).toBe(200);
    expect(maxInside).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  it('an expired lock is taken over, and its old owner cannot release the new one', () => {
    const path = lockPath();
    const lock = new FileLock(path);
    expect(lock.tryAcquire('old', 1)).not.toBeNull();
    const until = Date.now() + 5;
    while (Date.now() < until) {
      // wait past the 1 ms ttl
    }
    expect(lock.tryAcquire('new', 60_000)?.owner).toBe('new');
    expect(lock.release('old')).toBe('not-held');
    expect(lock.read()?.record.owner).toBe('new');
    expect(lock.release('new')).toBe('released');
  });

  it('a lock file it cannot read counts as held until its mtime is old', () => {
    const path = lockPath();
    writeFileSync(path, 'not json');
    const lock = new FileLock(path);
    expect(lock.tryAcquire('me', 1_000)).toBeNull();
    const old = (Date.now() - UNREADABLE_LOCK_TTL_MS - 1_000) / 1000;
    utimesSync(path, old, old);
    expect(lock.tryAcquire('me', 1_000)?.owner).toBe('me');
  });

  it('a guard left by a killed process delays a release only until it is stale', () => {
    const path = lockPath();
    const lock = new FileLock(path);
    expect(lock.tryAcquire('me', 60_000)).not.toBeNull();
    mkdirSync(`${path}.guard`);
    expect(lock.release('me')).toBe('busy');
    const old = (Date.now() - GUARD_STALE_MS - 1_000) / 1000;
    utimesSync(`${path}.guard`, old, old);
    expect(lock.release('me')).toBe('released');
    expect(existsSync(`${path}.guard`)).toBe(false);
  });

  it('a stale guard is broken by one process at a time, and a guard taken afresh meanwhile is never removed', () => {
    const path = lockPath();
    const lock = new FileLock(path);
    expect(lock.tryAcquire('me', 60_000)).not.toBeNull();
    const guard = `${path}.guard`;
    const breaker = `${guard}.break`;
    const age = (ms: number) => (Date.now() - ms) / 1000;
    mkdirSync(guard);
    utimesSync(guard, age(GUARD_STALE_MS + 1_000), age(GUARD_STALE_MS + 1_000));
    // Another process is breaking it right now: this one waits.
    mkdirSync(breaker);
    expect(lock.release('me')).toBe('busy');
    expect(existsSync(guard)).toBe(true);
    // That process broke the stale guard and another took a fresh one: it stays.
    rmdirSync(breaker);
    rmdirSync(guard);
    mkdirSync(guard);
    expect(lock.release('me')).toBe('busy');
    expect(existsSync(guard)).toBe(true);
    // A breaker killed mid-break is removed once it is stale, then the stale guard is broken.
    mkdirSync(breaker);
    utimesSync(breaker, age(BREAKER_STALE_MS + 1_000), age(BREAKER_STALE_MS + 1_000));
    utimesSync(guard, age(GUARD_STALE_MS + 1_000), age(GUARD_STALE_MS + 1_000));
    expect(lock.release('me')).toBe('busy');
    expect(existsSync(breaker)).toBe(false);
    expect(lock.release('me')).toBe('released');
    expect(existsSync(guard)).toBe(false);
  });
});
