// RedisStore shared by processes: concurrent saves, withLock, and a writer SIGKILLed at random
// moments over and over. Each test works under its own fresh prefix on the shared server.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, stop as stopEsbuild } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis.js';
import type { OAuthToken, StoredToken } from '../../src/token.js';
import { REDIS_URL, serviceAvailable, uniqueName } from '../services.js';
import { crashOperation, crashUserName } from './helpers/redis-crash-ops.js';
import { adminClient, deletePrefix, layoutProblems } from './helpers/redis-keys.js';
import { expectNoOverlappingSections } from '../helpers/lock-spans.js';

const available = await serviceAvailable('Redis', REDIS_URL, 'ZTOKEN_REDIS_URL');
const admin = available ? adminClient() : undefined;
const prefixes: string[] = [];
const freshPrefix = () => {
  const prefix = `${uniqueName('ztp')}:`;
  prefixes.push(prefix);
  return prefix;
};
afterAll(async () => {
  if (admin) for (const prefix of prefixes) await deletePrefix(admin, prefix);
  await admin?.quit();
});

// node --import tsx runs the writer in ONE process: SIGKILL on the tsx wrapper script would
// kill only the wrapper and leave the real writer alive.
const tsxNode = (...args: string[]) =>
  spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
const writer = join(import.meta.dirname, 'helpers', 'store-writer.ts');
const storeUrl = (prefix: string) => `${REDIS_URL}?prefix=${encodeURIComponent(prefix)}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function runWriter(prefix: string, mode: string, workerId: number, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = tsxNode(writer, storeUrl(prefix), mode, String(workerId), String(count));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer ${workerId} exited ${code}: ${err}`))));
  });
}

describe.skipIf(!available)('RedisStore shared by processes', () => {
  it('four processes saving distinct and identical users at once: exactly the expected records', async () => {
    const prefix = freshPrefix();
    await Promise.all([0, 1, 2, 3].map((w) => runWriter(prefix, 'save', w, 40)));
    const store = new RedisStore({ url: REDIS_URL, prefix });
    const all = await store.getTokens();
    // each worker saved 40 users of its own and the same 10 shared users
    const own = all
      .filter((t) => t.userName?.startsWith('w'))
      .map((t) => t.userName)
      .sort();
    const expectedOwn = [0, 1, 2, 3].flatMap((w) => Array.from({ length: 40 }, (_, i) => `w${w}-u${i}`)).sort();
    expect(own).toEqual(expectedOwn);
    expect(
      all
        .filter((t) => t.userName?.startsWith('shared'))
        .map((t) => t.userName)
        .sort(),
    ).toEqual(Array.from({ length: 10 }, (_, i) => `shared${i}`).sort());
    expect(all).toHaveLength(170);
    // Ids come from one atomic counter: 1..170, none lost, none twice.
    expect(all.map((t) => t.id)).toEqual(Array.from({ length: 170 }, (_, i) => String(i + 1)));
    expect((await layoutProblems(admin!, prefix)).problems).toEqual([]);
    await store.close();
  }, 60_000);

  it('withLock excludes other processes', async () => {
    const prefix = freshPrefix();
    const outputs = await Promise.all([0, 1, 2].map((w) => runWriter(prefix, 'lock', w, 15)));
    expectNoOverlappingSections(outputs, 45);
    expect(await admin!.exists(`${prefix}lock:fleet`)).toBe(0);
  }, 60_000);

  it('a process killed while holding the lock delays others by at most the ttl', async () => {
    const prefix = freshPrefix();
    const child = tsxNode(writer, storeUrl(prefix), 'hold', '0', '1', '1500');
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const dead = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill('SIGKILL');
    await dead;
    const store = new RedisStore({ url: REDIS_URL, prefix });
    const started = Date.now();
    await store.withLock('fleet', 1_000, async () => undefined);
    expect(Date.now() - started).toBeLessThan(1_500 + 500);
    await store.close();
  }, 30_000);
});

describe.skipIf(!available)('RedisStore and a writer killed at random moments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-redis-crash-'));
  const bundle = join(dir, 'crash-writer.mjs');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Plain node on a bundle starts in ~0.1 s where tsx takes ~0.5 s: 100+ kills fit in seconds.
  beforeAll(async () => {
    await build({
      entryPoints: [join(import.meta.dirname, 'helpers', 'redis-crash-writer.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: bundle,
      logLevel: 'warning',
    });
    await stopEsbuild();
  });

  const USERS = 6;
  const LANES = 3;
  const KILLS_PER_LANE = 34;

  /** The stored state after the n-th operation (null: deleted), without the id. */
  const stateAfter = (user: number, base: number, n: number): OAuthToken | null => {
    const op = crashOperation(user, base, n);
    return op.kind === 'delete' ? null : op.token;
  };
  const withoutId = (token: StoredToken | null): OAuthToken | null => {
    if (!token) return null;
    const { id: _id, ...rest } = token;
    return rest;
  };
  const same = (a: OAuthToken | null, b: OAuthToken | null) =>
    JSON.stringify(a && Object.entries(a).sort()) === JSON.stringify(b && Object.entries(b).sort());

  const connectionName = (prefix: string, base: number) => `ztcrash-${prefix.replace(/:$/, '')}-${base}`;

  /**
   * Waits until Redis has closed a killed writer's connection. Commands the writer sent just
   * before dying still sit in the server's socket buffer and run before Redis sees the close:
   * checking earlier would race with them.
   */
  async function connectionGone(name: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const list = (await admin!.client('LIST')) as string;
      if (!list.includes(`name=${name} `)) return;
      await sleep(2);
    }
    throw new Error(`Redis still has the connection of killed writer ${name}`);
  }

  interface CrashChild {
    child: ChildProcess;
    output: () => string;
    /** Resolves once connected and waiting for "go". */
    ready: Promise<void>;
    /** Lets it write; resolves at its first acknowledged operation. */
    go: () => Promise<void>;
  }

  function startChild(prefix: string, base: number): CrashChild {
    const name = connectionName(prefix, base);
    const child = spawn(process.execPath, [bundle, REDIS_URL, prefix, String(USERS), String(base), name], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // The bundle lives in a temp folder: let its require('ioredis') find the project's copy.
      env: { ...process.env, NODE_PATH: join(process.cwd(), 'node_modules') },
    });
    let out = '';
    let err = '';
    const waiters: { text: string; resolve: () => void }[] = [];
    child.stderr?.on('data', (d) => (err += d));
    child.stdout?.on('data', (d) => {
      out += d;
      for (const w of waiters.splice(0))
        if (out.includes(w.text)) w.resolve();
        else waiters.push(w);
    });
    const seen = (text: string) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        waiters.push({ text, resolve });
        child.once('exit', (code) => reject(new Error(`crash writer exited ${code} before "${text.trim()}": ${err}`)));
      });
    const ready = seen('ready\n');
    return {
      child,
      output: () => out,
      ready,
      go: () => {
        child.stdin?.write('go\n');
        return seen('ack ');
      },
    };
  }

  /** One prefix, one writer at a time: let it write, SIGKILL it, check everything. */
  async function lane(prefix: string): Promise<{ kills: number; checks: number; acks: number; problems: string[] }> {
    const store = new RedisStore({ url: REDIS_URL, prefix });
    const observed = new Map<number, OAuthToken | null>();
    const problems: string[] = [];
    let kills = 0;
    let checks = 0;
    let acks = 0;
    let next = startChild(prefix, 1_000_000);
    for (let cycle = 1; cycle <= KILLS_PER_LANE; cycle++) {
      const base = cycle * 1_000_000;
      const current = next;
      await current.ready;
      await current.go();
      await sleep(Math.random() * 30);
      const closed = new Promise<void>((resolve) => current.child.once('close', () => resolve()));
      current.child.kill('SIGKILL');
      await closed;
      await connectionGone(connectionName(prefix, base));
      kills++;
      // The next writer starts up (and only connects) while this one's work is checked.
      if (cycle < KILLS_PER_LANE) next = startChild(prefix, (cycle + 1) * 1_000_000);

      const lastAck = new Map<number, number>();
      const lines = current.output().split('\n');
      lines.pop(); // a line cut by the kill is not an acknowledgement
      for (const line of lines) {
        const [tag, user, n] = line.split(' ');
        if (tag === 'ack') {
          lastAck.set(Number(user), Number(n));
          acks++;
        }
      }
      const all = await store.getTokens();
      for (let user = 0; user < USERS; user++) {
        const rows = all.filter((t) => t.userName === crashUserName(user));
        if (rows.length > 1) problems.push(`cycle ${cycle}: user ${user} stored ${rows.length} times`);
        const actual = withoutId(rows[0] ?? null);
        const last = lastAck.get(user);
        // The last acknowledged operation is stored, or the one after it (in flight at the kill).
        const allowed = [
          last === undefined ? (observed.get(user) ?? null) : stateAfter(user, base, last),
          stateAfter(user, base, last === undefined ? 0 : last + 1),
        ];
        if (!allowed.some((state) => same(actual, state))) {
          problems.push(`cycle ${cycle}: user ${user} holds ${JSON.stringify(actual)}, last ack n=${last}`);
        }
        observed.set(user, actual);
      }
      const layout = await layoutProblems(admin!, prefix);
      problems.push(...layout.problems.map((p) => `cycle ${cycle}: ${p}`));
      checks++;
    }
    await store.close();
    return { kills, checks, acks, problems };
  }

  it('every acknowledged save is present and the index stays consistent across 100+ kills', async () => {
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: LANES }, () => lane(freshPrefix())));
    const kills = results.reduce((sum, r) => sum + r.kills, 0);
    const checks = results.reduce((sum, r) => sum + r.checks, 0);
    const acks = results.reduce((sum, r) => sum + r.acks, 0);
    console.log(
      `RedisStore crash test: ${kills} SIGKILLs, ${checks} consistency checks, ${acks} acknowledged operations, ${Date.now() - started} ms`,
    );
    expect(results.flatMap((r) => r.problems)).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(100);
  }, 60_000);
});
