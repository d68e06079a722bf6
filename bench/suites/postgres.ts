/**
 * Issue 3 benchmark, PostgresStore: findToken (by refresh token, random) and saveToken (update of
 * a random user) at 1,000 / 10,000 / 100,000 tokens, beside the raw pg Pool doing the same point
 * lookup (`SELECT ... WHERE refresh_token = $1` on the same indexed table, as a named prepared
 * statement like ours) and an autocommit UPDATE, measured in interleaved rounds in the same run.
 * Target: findToken within 1.5x of the raw point lookup, flat across sizes. Needs PostgreSQL at
 * ZTOKEN_POSTGRES_URL.
 */
import pg from 'pg';
import { PostgresStore } from '../../src/stores/postgres.js';
import type { OAuthToken } from '../../src/token.js';
import { POSTGRES_URL } from '../../test/services.js';
import type { BenchContext } from '../lib.js';
import { seededRandom } from '../lib.js';

const SUITE = 'postgres';
const url = new URL(POSTGRES_URL);
const target = {
  host: url.hostname,
  port: Number(url.port || 5432),
  user: decodeURIComponent(url.username || 'postgres'),
  password: decodeURIComponent(url.password),
  database: decodeURIComponent(url.pathname.slice(1)) || 'test',
};

const CLIENT = { clientId: '1000.BENCHCLIENT000000000000000000', clientSecret: 'bench-secret-0123456789abcdef' };
const hex = (i: number) => i.toString(16).padStart(32, '0');
const benchToken = (i: number): OAuthToken & { id: string } => ({
  id: String(i),
  userName: `user${i}@zylker.com`,
  ...CLIENT,
  refreshToken: `1000.${hex(i)}.refresh`,
  accessToken: `1000.${hex(i)}.access`,
  expiryTime: 1_767_225_600_000,
  redirectUrl: 'https://app.example.com/callback',
  apiDomain: 'https://www.zohoapis.com',
});
const rowOf = (i: number) => {
  const t = benchToken(i);
  return [
    t.id,
    t.userName,
    t.clientId,
    t.clientSecret,
    t.refreshToken,
    t.accessToken,
    null,
    String(t.expiryTime),
    t.redirectUrl,
    t.apiDomain,
  ];
};

/** Rows from+1..to, 1,000 per multi-row INSERT (setup speed, not saveToken). */
async function bulkLoad(pool: pg.Pool, table: string, from: number, to: number): Promise<void> {
  const BATCH = 1_000;
  for (let start = from + 1; start <= to; start += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, to - start + 1) }, (_, k) => start + k);
    const tuples = ids.map((_, r) => `(${Array.from({ length: 10 }, (_, c) => `$${r * 10 + c + 1}`).join(',')})`);
    await pool.query(`INSERT INTO "${table}" VALUES ${tuples.join(',')}`, ids.flatMap(rowOf));
  }
}

const ROUNDS = 5;
type Measured = { medianUs: number; p99Us: number; samples: number };

/**
 * Measures `raw` and `ours` in alternating short rounds, so load from other processes on the
 * machine hits both alike; reports each one's median over the rounds and the median of the
 * per-round ratios.
 */
async function interleaved(
  ctx: BenchContext,
  fns: { raw: () => unknown; ours: () => unknown },
): Promise<{ raw: Measured; ours: Measured; ratio: number }> {
  const rounds: { raw: Measured; ours: Measured }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const raw = await ctx.measure(fns.raw, { timeMs: 200, iterations: 20 });
    const ours = await ctx.measure(fns.ours, { timeMs: 200, iterations: 20 });
    rounds.push({ raw, ours });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = (pick: (x: { raw: Measured; ours: Measured }) => Measured): Measured => ({
    medianUs: median(rounds.map((x) => pick(x).medianUs)),
    p99Us: median(rounds.map((x) => pick(x).p99Us)),
    samples: rounds.reduce((n, x) => n + pick(x).samples, 0),
  });
  return { raw: summary((x) => x.raw), ours: summary((x) => x.ours), ratio: median(rounds.map((x) => x.ours.medianUs / x.raw.medianUs)) };
}

export async function run(ctx: BenchContext): Promise<void> {
  const table = `ztbench_${process.pid}`;
  const store = new PostgresStore({ ...target, table });
  const raw = new pg.Pool({ ...target, max: 10 });
  raw.on('error', () => undefined);
  try {
    await store.getTokens(); // creates the table and its indexes
    let loaded = 0;
    for (const size of ctx.sizes) {
      await bulkLoad(raw, table, loaded, size);
      await raw.query(`ANALYZE "${table}"`);
      loaded = size;

      const random = seededRandom(size);
      const picks = Array.from({ length: 4096 }, () => 1 + Math.floor(random() * size));
      const refresh = picks.map((n) => benchToken(n).refreshToken!);
      const partials = refresh.map((refreshToken) => ({ ...CLIENT, refreshToken }));
      let q = 0;
      const next = () => q++ & 4095;
      const lookup = `SELECT id, user_name, client_id, client_secret, refresh_token, access_token, grant_token, expiry_time, redirect_url, api_domain FROM "${table}" WHERE refresh_token = $1`;
      const rawLookup = (value: string) => raw.query({ name: 'bench_lookup', text: lookup, values: [value] });
      for (let i = 0; i < 1_000; i++) {
        const k = next();
        await rawLookup(refresh[k]!);
        await store.findToken(partials[k]!);
      }
      const finds = await interleaved(ctx, {
        raw: () => rawLookup(refresh[next()]!),
        ours: () => store.findToken(partials[next()]!),
      });
      ctx.record({
        suite: SUITE,
        subject: 'pg Pool (raw)',
        operation: 'SELECT ... WHERE refresh_token = $1 (indexed, prepared)',
        tokens: size,
        ...finds.raw,
      });
      ctx.record({
        suite: SUITE,
        subject: 'PostgresStore',
        operation: 'findToken (by refresh token)',
        tokens: size,
        ...finds.ours,
        note: `${finds.ratio.toFixed(2)}x the raw lookup (median of ${ROUNDS} interleaved rounds)`,
      });

      let version = 0;
      const saves = await interleaved(ctx, {
        raw: () =>
          raw.query({
            name: 'bench_update',
            text: `UPDATE "${table}" SET access_token = $1, expiry_time = $2 WHERE user_name = $3`,
            values: [`1000.access.raw.${++version}`, '1767229200000', `user${picks[next()]}@zylker.com`],
          }),
        ours: () =>
          store.saveToken({
            ...benchToken(picks[next()]!),
            id: undefined,
            accessToken: `1000.access.ours.${++version}`,
            expiryTime: 1_767_229_200_000,
          }),
      });
      ctx.record({
        suite: SUITE,
        subject: 'pg Pool (raw)',
        operation: 'UPDATE ... WHERE user_name = $3 (autocommit)',
        tokens: size,
        ...saves.raw,
      });
      ctx.record({
        suite: SUITE,
        subject: 'PostgresStore',
        operation: 'saveToken (update: transaction, row lock)',
        tokens: size,
        ...saves.ours,
        note: `${saves.ratio.toFixed(2)}x the raw UPDATE`,
      });
    }
  } finally {
    await store.close();
    await raw.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => undefined);
    await raw.end();
  }
}
