import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore, writeLockPath } from '../../src/stores/file.js';
import type { StoredToken } from '../../src/token.js';
import { type Child, killHard, removeWriterBundle, runWriter, startWriter, waitForLine } from './helpers/file-children.js';
import { childToken, crashSave, saveNumberOf, UPDATED_USERS } from './helpers/file-tokens.js';
import { expectNoOverlappingSections } from '../helpers/lock-spans.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-file-proc-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeWriterBundle();
});
let n = 0;
const freshPath = () => join(dir, `t${++n}.txt`);
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

describe('FileStore shared by processes', () => {
  it('four processes saving distinct and identical users at once leave exactly the expected rows', async () => {
    const path = freshPath();
    const perWorker = 30;
    await Promise.all([0, 1, 2, 3].map((w) => runWriter(['save', path, String(w), String(perWorker)])));
    const all = await new FileStore({ path }).getTokens();
    const byUser = new Map(all.map((t) => [t.userName, t]));
    expect(all).toHaveLength(4 * perWorker + 10);
    expect(byUser.size).toBe(all.length);
    expect(new Set(all.map((t) => t.id))).toEqual(new Set(Array.from({ length: all.length }, (_, i) => String(i + 1))));
    for (let w = 0; w < 4; w++) {
      for (let i = 0; i < perWorker; i++) {
        const user = `w${w}-u${i}`;
        expect(byUser.get(user)).toEqual({ id: byUser.get(user)?.id, ...childToken(user) });
      }
    }
    // Every worker's last save of each shared user was the same token.
    for (let i = 0; i < 10; i++)
      expect(byUser.get(`shared${i}`)).toEqual({ id: byUser.get(`shared${i}`)?.id, ...childToken(`shared${i}`) });
    expect(readdirSync(dir).filter((f) => f.startsWith(`.t${n}.txt`) || f.startsWith(`t${n}.txt.`))).toEqual([]);
  }, 60_000);

  it('sees a change another process made to the file it has indexed', async () => {
    const path = freshPath();
    const store = new FileStore({ path });
    await store.saveToken(childToken('alice', { accessToken: '1000.access.AAAA' }));
    expect((await store.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.AAAA');
    await runWriter(['update', path, 'alice', '1000.access.BBBB']);
    expect((await store.findToken({ userName: 'alice' }))?.accessToken).toBe('1000.access.BBBB');
    await runWriter(['update', path, 'bob', '1000.access.CCCC']);
    expect((await store.findToken({ userName: 'bob' }))?.id).toBe('2');
  }, 30_000);

  it('withLock excludes other processes', async () => {
    const path = freshPath();
    const outputs = await Promise.all([0, 1, 2].map((w) => runWriter(['lock', path, String(w), '15'])));
    expectNoOverlappingSections(outputs, 45);
  }, 60_000);

  it('a withLock holder killed with SIGKILL delays others by at most the ttl', async () => {
    const path = freshPath();
    const ttl = 1_500;
    const child = startWriter(['hold-key', path, String(ttl)]);
    await waitForLine(child, 'holding');
    await killHard(child);
    const store = new FileStore({ path });
    const started = Date.now();
    await store.withLock('fleet', 1_000, async () => undefined);
    const waited = Date.now() - started;
    // A dead holder of this host is seen at once; the ttl is the bound for any other.
    expect(waited).toBeLessThan(ttl);
    console.log(`withLock after a SIGKILLed holder (ttl ${ttl} ms): waited ${waited} ms`);
  }, 30_000);

  it("a writer killed while holding the store's write lock does not block the next save", async () => {
    const path = freshPath();
    const child = startWriter(['hold-write', path]);
    await waitForLine(child, 'holding');
    await killHard(child);
    const store = new FileStore({ path, lockStaleMs: 10_000 });
    const started = Date.now();
    await store.saveToken(childToken('after'));
    const waited = Date.now() - started;
    expect(waited).toBeLessThan(10_000);
    expect(waited).toBeLessThan(1_000); // the holder's pid is gone: no need to wait for lockStaleMs
    expect(readdirSync(dir).includes(writeLockPath(path).slice(dir.length + 1))).toBe(false);
    console.log(`save after a SIGKILLed write-lock holder (lockStaleMs 10000): waited ${waited} ms`);
  }, 30_000);
});

describe('FileStore crash safety', () => {
  it('a writer SIGKILLed at random moments never leaves an unreadable file nor loses an acknowledged save', async () => {
    const path = freshPath();
    const kills = Number(process.env.FILE_CRASH_KILLS ?? 105);
    const started = Date.now();
    /** The highest acknowledged save number per updated user, and every acknowledged new user. */
    const ackedUpdate = new Map<string, number>();
    const ackedNew = new Set<number>();
    let acknowledged = 0;
    let checks = 0;
    let largestFile = 0;

    // Children start while the previous one runs, so start-up time overlaps the writing.
    // Each child numbers its saves from its own million, so no two children ever write the same
    // save number (a later child reusing a range would look like a lost save).
    const warm: { child: Child; ready: Promise<void>; start: number }[] = [];
    let childrenStarted = 0;
    const prepare = () => {
      const start = ++childrenStarted * 1_000_000;
      const child = startWriter(['crash', path, String(start)]);
      warm.push({ child, ready: waitForLine(child, 'ready'), start });
    };
    for (let i = 0; i < 3; i++) prepare();

    let made = 0;
    while (made < kills) {
      const next = warm.shift()!;
      prepare();
      await next.ready;
      let buffered = '';
      let firstAck: () => void = () => undefined;
      const saving = new Promise<void>((resolve) => (firstAck = resolve));
      next.child.stdout.on('data', (d: Buffer) => {
        buffered += d;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const i = Number(line);
          if (!Number.isSafeInteger(i)) continue;
          acknowledged++;
          firstAck();
          const token = crashSave(i);
          if (token.userName!.startsWith('n')) ackedNew.add(i);
          else ackedUpdate.set(token.userName!, Math.max(ackedUpdate.get(token.userName!) ?? -1, i));
        }
      });
      next.child.stdin.write('go\n');
      // Every other kill is timed from the first acknowledged save, so most land mid-write
      // rather than while the child is still loading the file.
      if (made % 2 === 1) await Promise.race([saving, sleep(5_000)]);
      await sleep(5 + Math.random() * 55);
      await killHard(next.child);
      made++;

      // The file must parse, and hold every acknowledged save (or a later one).
      const reader = new FileStore({ path });
      let tokens: StoredToken[] = [];
      try {
        tokens = await reader.getTokens();
      } catch (error) {
        throw new Error(`after kill ${made} the token file does not parse: ${(error as Error).message}`);
      }
      const byUser = new Map(tokens.map((t) => [t.userName!, t]));
      expect(byUser.size, 'one row per user').toBe(tokens.length);
      for (const i of ackedNew)
        expect(byUser.get(`n${i}`)?.accessToken, `acknowledged insert ${i} after kill ${made}`).toBe(`1000.access.${i}`);
      for (const [user, i] of ackedUpdate) {
        const stored = saveNumberOf(byUser.get(user)?.accessToken);
        expect(stored, `${user} after kill ${made}`).toBeGreaterThanOrEqual(i);
        expect(crashSave(stored).userName).toBe(user);
      }
      for (const token of tokens) expect(token).toEqual({ id: token.id, ...crashSave(saveNumberOf(token.accessToken)) });
      largestFile = Math.max(largestFile, tokens.length);
      checks++;
      await reader.close();
    }
    for (const { child, ready } of warm) {
      ready.catch(() => undefined); // killed before it was ready: expected
      await killHard(child);
    }

    // Each writer removes what killed ones left (temp files of dead pids; their lock and guard).
    const leftovers = readdirSync(dir).filter((f) => f.startsWith(`.t${n}.txt.`) || f.startsWith(`t${n}.txt.lock`));
    console.log(
      `crash test: ${made} SIGKILLs of a writer at random 5-60 ms after it was told to start (every other one after its first save); ${acknowledged} acknowledged saves ` +
        `(${ackedNew.size} inserts, updates of ${ackedUpdate.size}/${UPDATED_USERS} users); after each kill the file parsed and held every ` +
        `acknowledged save or a later one, with one row per user and every field exact (${checks} checks, up to ${largestFile} rows); ` +
        `${leftovers.length} temp/lock files of the last killed writer left; ${Date.now() - started} ms`,
    );
    expect(made).toBe(kills);
    expect(acknowledged).toBeGreaterThan(0);
    expect(leftovers.length).toBeLessThanOrEqual(4);
  }, 90_000);
});
