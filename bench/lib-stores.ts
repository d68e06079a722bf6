/**
 * What the database suites share: their tokens, measuring subjects in interleaved rounds, and the
 * whole SQL suite (our store beside the raw driver pool on the same indexed table), run against
 * an engine description so that bench/suites/mysql.ts and postgres.ts record the rows they always
 * did. It lives outside bench/suites because bench/run.ts runs every file there as a suite.
 */
import { createHash } from 'node:crypto';
import { type TokenRow, tokenToRow } from '../src/row.js';
import type { TokenStore } from '../src/store.js';
import type { OAuthToken } from '../src/token.js';
import type { BenchContext, MeasureOptions } from './lib.js';
import { median, seededRandom } from './lib.js';

export const BENCH_CLIENT = { clientId: '1000.BENCHCLIENT000000000000000000', clientSecret: '0123456789abcdef0123456789abcdef0123456789' };
/**
 * A Zoho token's shape, `1000.<32 hex>.<32 hex>` (70 characters), with both halves pseudorandom
 * and different for every (kind, i), as Zoho's are: an index sees them in random order, as it
 * sees their encrypted forms (before 2026-12-07 12:10 UTC the first half was i in hex, which made
 * plaintext index inserts sequential and flattered the plaintext figures against the encrypted).
 */
const zohoShaped = (kind: string, i: number) => {
  const digest = createHash('sha256').update(`${kind}${i}`).digest('hex');
  return `1000.${digest.slice(0, 32)}.${digest.slice(32)}`;
};

/**
 * Token number i, as every database suite loads it: Zoho's shapes for refresh and access tokens
 * and one client id and secret shared by every user, as an integrator has (one Zoho client, many
 * users).
 */
export const benchToken = (i: number): OAuthToken & { id: string } => ({
  id: String(i),
  userName: `user${i}@zylker.com`,
  ...BENCH_CLIENT,
  refreshToken: zohoShaped('refresh', i),
  accessToken: zohoShaped('access', i),
  expiryTime: 1_767_225_600_000,
  redirectUrl: 'https://app.example.com/callback',
  apiDomain: 'https://www.zohoapis.com',
});

/** Token number i as a row of Zoho's ten columns. */
const rowOf = (i: number) => tokenToRow(benchToken(i));

export type Measured = { medianUs: number; p99Us: number; samples: number };

/**
 * Measures `fns` in alternation, round after round, so load from other processes on the machine
 * hits every subject alike. Each figure is the median of its rounds' medians (and p99s);
 * `ratio(subject, base)` is the median of the per-round ratios of the two subjects' medians, and
 * `difference(subject, base)` the median of their per-round differences (µs).
 */
export async function interleaved(
  ctx: BenchContext,
  fns: (() => unknown)[],
  options: { rounds: number } & MeasureOptions,
): Promise<{ figures: Measured[]; ratio(subject: number, base: number): number; difference(subject: number, base: number): number }> {
  const runs: Measured[][] = fns.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, fn] of fns.entries()) runs[i]!.push(await ctx.measure(fn, options));
  }
  return {
    figures: runs.map((r) => ({
      medianUs: median(r.map((x) => x.medianUs)),
      p99Us: median(r.map((x) => x.p99Us)),
      samples: r.reduce((sum, x) => sum + x.samples, 0),
    })),
    ratio: (subject, base) => median(runs[subject]!.map((x, round) => x.medianUs / runs[base]![round]!.medianUs)),
    difference: (subject, base) => median(runs[subject]!.map((x, round) => x.medianUs - runs[base]![round]!.medianUs)),
  };
}

/** A driver's pool, as the SQL suite uses it. */
export interface RawSql {
  query(sql: string, values?: unknown[]): Promise<unknown>;
  /** The driver's prepared-statement path (`name` names it where the driver names them), as an application runs a hot query. */
  prepared(name: string, sql: string, values: unknown[]): Promise<unknown>;
  /** Runs the statements in order inside one transaction, on one connection. */
  transaction(statements: [sql: string, values: unknown[]][]): Promise<void>;
  end(): Promise<void>;
}

/** One size's run, for what an engine measures beside ours. */
export interface SizeRun {
  size: number;
  /** Token numbers picked at random, and their refresh tokens. */
  picks: number[];
  refresh: string[];
  /** The index of the next pick (it cycles through them). */
  next(): number;
  /** A new number for an updated access token. */
  version(): number;
  ours: { find: Measured; save: Measured };
}

/** A subject an engine measures beside ours on a table of its own (MySQL: the official SDK's DBStore). */
export interface Beside {
  /** Loads its table from `loaded` tokens to `size` (creating it first, when `loaded` is 0). */
  load(raw: RawSql, loaded: number, size: number): Promise<void>;
  measure(ctx: BenchContext, run: SizeRun): Promise<void>;
  drop(raw: RawSql): Promise<unknown>;
}

export interface SqlBenchEngine {
  suite: string;
  /** Row subjects: our store, and the raw driver pool. */
  subject: string;
  rawSubject: string;
  /** Row operations of the raw driver's point lookup and UPDATE. */
  lookupOperation: string;
  updateOperation: string;
  open(table: string): TokenStore;
  connect(): RawSql;
  quote(identifier: string): string;
  /** The placeholder of the n-th (1-based) bound parameter. */
  placeholder(n: number): string;
  analyze(quotedTable: string): string;
  /** How this engine finds the largest numeric id for a new one (the insert row's note). */
  newIdNote: string;
  beside?(): Beside | null;
}

export const ROUNDS = 5;
const ROUND = { rounds: ROUNDS, timeMs: 200, iterations: 20 };
const COLUMNS = 'id, user_name, client_id, client_secret, refresh_token, access_token, grant_token, expiry_time, redirect_url, api_domain';

/**
 * Rows from+1..to (token number i as `row(i)`, default benchToken's), 1,000 per multi-row INSERT,
 * in one transaction (setup speed, not saveToken).
 */
export async function bulkLoad(
  engine: SqlBenchEngine,
  raw: RawSql,
  table: string,
  from: number,
  to: number,
  row: (i: number) => TokenRow = rowOf,
): Promise<void> {
  const BATCH = 1_000;
  const inserts: [string, unknown[]][] = [];
  for (let start = from + 1; start <= to; start += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, to - start + 1) }, (_, k) => start + k);
    const tuples = ids.map((_, r) => `(${Array.from({ length: 10 }, (_, c) => engine.placeholder(r * 10 + c + 1)).join(',')})`);
    inserts.push([`INSERT INTO ${engine.quote(table)} VALUES ${tuples.join(',')}`, ids.flatMap(row)]);
  }
  await raw.transaction(inserts);
}

/**
 * findToken (by refresh token, random) and saveToken (update of a random user) at each size,
 * beside the raw pool's point lookup on the same indexed table and an autocommit UPDATE,
 * measured in interleaved rounds.
 */
export async function runSqlSuite(ctx: BenchContext, engine: SqlBenchEngine): Promise<void> {
  const { suite } = engine;
  const table = `ztbench_${process.pid}`;
  const quoted = engine.quote(table);
  const p = engine.placeholder;
  const store = engine.open(table);
  const raw = engine.connect();
  const beside = engine.beside?.() ?? null;
  type Subject = [operation: string, fn: () => unknown];
  /** Measures the raw pool and our store doing the same in interleaved rounds; records both rows; answers ours. */
  const compare = async (size: number, sides: { raw: Subject; ours: Subject; against: string }) => {
    const [[rawOperation, rawFn], [ourOperation, ourFn]] = [sides.raw, sides.ours];
    const measured = await interleaved(ctx, [rawFn, ourFn], ROUND);
    const [rawFigures, ourFigures] = measured.figures as [Measured, Measured];
    ctx.record({ suite, subject: engine.rawSubject, operation: rawOperation, tokens: size, ...rawFigures });
    const note = `${measured.ratio(1, 0).toFixed(2)}x ${sides.against}`;
    ctx.record({ suite, subject: engine.subject, operation: ourOperation, tokens: size, ...ourFigures, note });
    return ourFigures;
  };
  try {
    await store.getTokens(); // creates the table and its indexes
    let loaded = 0;
    for (const size of ctx.sizes) {
      await bulkLoad(engine, raw, table, loaded, size);
      await beside?.load(raw, loaded, size);
      await raw.query(engine.analyze(quoted));
      loaded = size;

      const random = seededRandom(size);
      const picks = Array.from({ length: 4096 }, () => 1 + Math.floor(random() * size));
      const refresh = picks.map((n) => benchToken(n).refreshToken!);
      const partials = refresh.map((refreshToken) => ({ ...BENCH_CLIENT, refreshToken }));
      let q = 0;
      const next = () => q++ & 4095;
      const lookup = `SELECT ${COLUMNS} FROM ${quoted} WHERE refresh_token = ${p(1)}`;
      const rawLookup = (value: string) => raw.prepared('bench_lookup', lookup, [value]);
      for (let i = 0; i < 1_000; i++) {
        const k = next();
        await rawLookup(refresh[k]!);
        await store.findToken(partials[k]!);
      }
      const ourFind = await compare(size, {
        raw: [engine.lookupOperation, () => rawLookup(refresh[next()]!)],
        ours: ['findToken (by refresh token)', () => store.findToken(partials[next()]!)],
        against: `the raw lookup (median of ${ROUNDS} interleaved rounds)`,
      });

      let version = 0;
      const update = `UPDATE ${quoted} SET access_token = ${p(1)}, expiry_time = ${p(2)} WHERE user_name = ${p(3)}`;
      const ourSave = await compare(size, {
        raw: [
          engine.updateOperation,
          () => raw.prepared('bench_update', update, [`1000.access.raw.${++version}`, '1767229200000', `user${picks[next()]}@zylker.com`]),
        ],
        ours: [
          'saveToken (update: transaction, row lock)',
          () =>
            store.saveToken({
              ...benchToken(picks[next()]!),
              id: undefined,
              accessToken: `1000.access.ours.${++version}`,
              expiryTime: 1_767_229_200_000,
            }),
        ],
        against: 'the raw UPDATE',
      });

      // A new user: the serialized insert path and a new id, the largest numeric id + 1. The rows
      // it adds are deleted after, so the next size loads its ids as before.
      const added: string[] = [];
      const insert = await ctx.measure(
        async () => {
          added.push((await store.saveToken({ ...benchToken(size + added.length + 1), id: undefined })).id);
        },
        { timeMs: ctx.quick ? 250 : 600, iterations: 20 },
      );
      ctx.record({
        suite,
        subject: engine.subject,
        operation: 'saveToken (insert: a new user, a new id)',
        tokens: size,
        ...insert,
        note: engine.newIdNote,
      });
      for (const id of added) await store.deleteToken(id);

      await beside?.measure(ctx, { size, picks, refresh, next, version: () => ++version, ours: { find: ourFind, save: ourSave } });
    }
  } finally {
    await store.close();
    await raw.query(`DROP TABLE IF EXISTS ${quoted}`).catch(() => undefined);
    await beside?.drop(raw).catch(() => undefined);
    await raw.end();
  }
}
