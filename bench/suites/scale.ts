/**
 * Issue 11 benchmark, `npm run bench -- --scale N`: every store (MemoryStore, SQLiteStore,
 * DBStore on MySQL/MariaDB, PostgresStore, RedisStore, FileStore) loaded in bulk in its own
 * format with 1,000 and N tokens in Zoho's columns, plaintext beside the same tokens encrypted
 * (EncryptedStore over a second store of the same kind). Per store and size: findToken (by
 * refresh token, random user), a known user's save (the SDK's save after a refresh: new access
 * token) and a new user's save (a new id), the two subjects measured in interleaved rounds.
 * Users are picked at random among N, far more than the cipher cache holds: encryption is
 * measured cold. Targets: @N within 2x @1k (all but FileStore), FileStore findToken <= 7.5 µs,
 * encryption <= +10 µs on findToken and <= +15 µs on a save.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { FieldCipher } from '../../src/crypto/cipher.js';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import { tokenToRow } from '../../src/row.js';
import type { TokenStore } from '../../src/store.js';
import { FileStore } from '../../src/stores/file.js';
import { MemoryStore } from '../../src/stores/memory.js';
import { RedisStore } from '../../src/stores/redis.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import type { StoredToken } from '../../src/token.js';
import { type BenchContext, formatUs, type MeasureOptions, seededRandom } from '../lib.js';
import { encryptedToken, numbered, seedSqliteFile, seedTokenFile } from '../lib-seed.js';
import { BENCH_CLIENT, benchToken, bulkLoad, interleaved, type Measured, type SqlBenchEngine } from '../lib-stores.js';
import { engine as mysqlEngine } from './mysql.js';
import { engine as postgresEngine } from './postgres.js';

const SUITE = 'scale';
const REDIS_URL = process.env.ZTOKEN_REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEYS = [{ id: 'bench', key: randomBytes(32) }];
const OPERATIONS = ['findToken (refresh token)', 'saveToken (known user)', 'saveToken (new user, new id)'] as const;
type Operation = (typeof OPERATIONS)[number];

/** A kind of store: loads tokens (as stored: plain or encrypted) into a new store and removes it. */
interface ScaleStore {
  name: string;
  /** Its saves rewrite everything (FileStore): fewer, untimed-warm-up calls; not held to "flat". */
  slowSaves?: boolean;
  load(tag: string, tokens: readonly StoredToken[]): Promise<TokenStore>;
  drop(tag: string): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** DBStore or PostgresStore: the SQL suite's engine loads its table in multi-row INSERTs in one transaction. */
function sqlStore(name: string, engine: SqlBenchEngine): ScaleStore {
  const table = (tag: string) => `ztscale_${process.pid}_${tag}`;
  return {
    name,
    load: async (tag, tokens) => {
      const store = engine.open(table(tag));
      await store.getTokens(); // creates the table and its indexes
      const raw = engine.connect();
      try {
        await bulkLoad(engine, raw, table(tag), 0, tokens.length, (i) => tokenToRow(tokens[i - 1]!));
        await raw.query(engine.analyze(engine.quote(table(tag))));
      } finally {
        await raw.end();
      }
      return store;
    },
    drop: async (tag) => {
      const raw = engine.connect();
      await raw.query(`DROP TABLE IF EXISTS ${engine.quote(table(tag))}`).finally(() => raw.end());
    },
  };
}

function stores(dir: string): ScaleStore[] {
  const redisPrefix = (tag: string) => `ztscale_${process.pid}_${tag}:`;
  return [
    {
      name: 'MemoryStore',
      load: async (_tag, tokens) => {
        const store = new MemoryStore();
        for (const token of tokens) await store.saveToken(token);
        return store;
      },
      drop: async () => undefined,
    },
    {
      name: 'SQLiteStore',
      load: async (tag, tokens) => {
        seedSqliteFile(join(dir, `${tag}.db`), tokens);
        return new SQLiteStore({ path: join(dir, `${tag}.db`) });
      },
      drop: async (tag) => rmSync(join(dir, `${tag}.db`), { force: true }),
    },
    sqlStore('DBStore (MySQL)', mysqlEngine),
    sqlStore('PostgresStore', postgresEngine),
    {
      name: 'RedisStore',
      load: async (tag, tokens) => {
        const store = new RedisStore({ url: REDIS_URL, prefix: redisPrefix(tag) });
        await store.deleteTokens();
        for (let start = 0; start < tokens.length; start += 10_000) await store.importTokens(tokens.slice(start, start + 10_000));
        return store;
      },
      drop: async (tag) => {
        const store = new RedisStore({ url: REDIS_URL, prefix: redisPrefix(tag) });
        await store.deleteTokens().finally(() => store.close());
      },
    },
    {
      name: 'FileStore',
      slowSaves: true,
      load: async (tag, tokens) => {
        const path = join(dir, `${tag}.txt`);
        seedTokenFile(path, tokens);
        const store = new FileStore({ path });
        await store.findTokenById('1');
        await sleep(50); // past the racy window of a file written just now (file-stamp.ts)
        await store.findTokenById('1');
        return store;
      },
      drop: async (tag) => rmSync(join(dir, `${tag}.txt`), { force: true }),
    },
  ];
}

interface Figures {
  plain: Measured;
  encrypted: Measured;
  /** Encrypted - plain: the median of the per-round differences. */
  addedUs: number;
}
type Results = Map<string, Map<Operation, Map<number, Figures>>>;

/** The three operations on one store kind at one size, plain and encrypted in interleaved rounds. */
async function measureStore(
  ctx: BenchContext,
  kind: ScaleStore,
  size: number,
  subjects: [plain: TokenStore, encrypted: TokenStore],
): Promise<Map<Operation, Figures>> {
  const random = seededRandom(size);
  const pick = () => 1 + Math.floor(random() * size);
  const queries = Array.from({ length: 4096 }, () => {
    const i = pick();
    return { id: String(i), partial: { ...BENCH_CLIENT, refreshToken: benchToken(i).refreshToken } };
  });
  let q = 0;
  let version = 0;
  let added = 0;
  const fns: Record<Operation, (store: TokenStore) => () => Promise<unknown>> = {
    'findToken (refresh token)': (store) => async () => {
      const query = queries[q++ & 4095]!;
      const found = await store.findToken(query.partial);
      if (found?.id !== query.id) throw new Error(`lookup of ${query.id} found ${found?.id}`);
    },
    'saveToken (known user)': (store) => () =>
      store.saveToken({
        ...benchToken(pick()),
        id: undefined,
        accessToken: `1000.${(++version).toString(16).padStart(32, '0')}.${'0'.repeat(24)}${(0xacce55 + version).toString(16).padStart(8, '0')}`,
        expiryTime: 1_767_229_200_000 + version,
      }),
    'saveToken (new user, new id)': (store) => () => store.saveToken({ ...benchToken(size + 1 + added++), id: undefined }),
  };
  const out = new Map<Operation, Figures>();
  for (const operation of OPERATIONS) {
    const slow = kind.slowSaves && operation !== 'findToken (refresh token)' && size > 10_000;
    const options: { rounds: number } & MeasureOptions = slow
      ? { rounds: 3, timeMs: 0, iterations: 5, warmupIterations: 1 }
      : { rounds: 5, timeMs: ctx.quick ? 100 : 200, iterations: 20 };
    const measured = await interleaved(ctx, subjects.map(fns[operation]), options);
    const [plain, encrypted] = measured.figures as [Measured, Measured];
    const overhead = measured.difference(1, 0);
    ctx.record({ suite: SUITE, subject: kind.name, operation, tokens: size, ...plain });
    ctx.record({
      suite: SUITE,
      subject: `EncryptedStore(${kind.name})`,
      operation,
      tokens: size,
      ...encrypted,
      note: `${overhead >= 0 ? '+' : ''}${formatUs(overhead)} vs plain (median of ${options.rounds} interleaved rounds' differences)`,
    });
    out.set(operation, { plain, encrypted, addedUs: overhead });
  }
  return out;
}

const FLAT = 2;
const TARGET_ADDED_US: Record<Operation, number> = {
  'findToken (refresh token)': 10,
  'saveToken (known user)': 15,
  'saveToken (new user, new id)': 15,
};
const FILE_FIND_US = 7.5;

/** One line per store and operation: both sizes, the ratio, the encryption overhead, the verdicts. */
function printSummary(results: Results, small: number, large: number): void {
  const at = (n: number) => `@${n.toLocaleString('en-US')}`;
  const table = new Table({
    head: [
      'store',
      'operation',
      at(small),
      at(large),
      'ratio',
      `encrypted ${at(large)}`,
      `+enc ${at(small)}`,
      `+enc ${at(large)}`,
      'targets',
    ],
  });
  for (const [store, operations] of results) {
    for (const [operation, bySize] of operations) {
      const a = bySize.get(small);
      const b = bySize.get(large);
      if (!a || !b) continue;
      const ratio = b.plain.medianUs / a.plain.medianUs;
      const added = (f: Figures) => f.addedUs;
      const verdicts: string[] = [];
      if (store !== 'FileStore') verdicts.push(ratio <= FLAT ? 'flat ✓' : `not flat (> ${FLAT}x) ✗`);
      if (store === 'FileStore' && operation === 'findToken (refresh token)')
        verdicts.push(b.plain.medianUs <= FILE_FIND_US ? `≤ ${FILE_FIND_US} µs ✓` : `> ${FILE_FIND_US} µs ✗`);
      verdicts.push(
        added(b) <= TARGET_ADDED_US[operation] ? `+enc ≤ ${TARGET_ADDED_US[operation]} µs ✓` : `+enc > ${TARGET_ADDED_US[operation]} µs ✗`,
      );
      const signed = (us: number) => `${us >= 0 ? '+' : ''}${formatUs(us)}`;
      table.push([
        store,
        operation,
        formatUs(a.plain.medianUs),
        formatUs(b.plain.medianUs),
        `${ratio.toFixed(2)}x`,
        formatUs(b.encrypted.medianUs),
        signed(added(a)),
        signed(added(b)),
        verdicts.join(', '),
      ]);
    }
  }
  console.log(`\nscale summary (medians; ratio = ${at(large)} / ${at(small)}, +enc = EncryptedStore - plain, cold)`);
  console.log(table.toString());
}

export async function run(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-bench-scale-'));
  const cipher = new FieldCipher(KEYS);
  const results: Results = new Map();
  const kinds = stores(dir);
  try {
    for (const size of ctx.sizes) {
      const plainTokens = [...numbered(size, benchToken)];
      const encryptedTokens = plainTokens.map((token) => encryptedToken(cipher, token));
      for (const kind of kinds) {
        const [plainTag, encryptedTag] = [`p${size}`, `e${size}`];
        const opened: TokenStore[] = [];
        try {
          const started = performance.now();
          const plain = await kind.load(plainTag, plainTokens);
          opened.push(plain);
          const loadUs = (performance.now() - started) * 1000;
          const encrypted = new EncryptedStore(await kind.load(encryptedTag, encryptedTokens), { keys: KEYS });
          opened.push(encrypted);
          console.log(`${kind.name}: ${size.toLocaleString('en-US')} tokens loaded in ${(loadUs / 1e6).toFixed(2)} s`);
          const figures = await measureStore(ctx, kind, size, [plain, encrypted]);
          const byOperation = results.get(kind.name) ?? new Map<Operation, Map<number, Figures>>();
          results.set(kind.name, byOperation);
          for (const [operation, f] of figures) byOperation.set(operation, (byOperation.get(operation) ?? new Map()).set(size, f));
        } catch (error) {
          const message = (error as Error).message;
          console.log(`${kind.name} at ${size}: skipped (${message})`);
          ctx.record({
            suite: SUITE,
            subject: kind.name,
            operation: 'failed',
            tokens: size,
            medianUs: Number.NaN,
            samples: 0,
            note: message,
          });
        } finally {
          for (const store of opened) await store.close().catch(() => undefined);
          await kind.drop(plainTag).catch(() => undefined);
          await kind.drop(encryptedTag).catch(() => undefined);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const [small, large] = [ctx.sizes[0], ctx.sizes[ctx.sizes.length - 1]];
  if (small !== undefined && large !== undefined && small !== large) printSummary(results, small, large);
}
