/**
 * Issue 3 benchmark, DBStore (MySQL/MariaDB): findToken (by refresh token, random) and saveToken
 * (update of a random user) at 1,000 / 10,000 / 100,000 tokens, beside the raw mysql2 pool doing
 * the same point lookup (`SELECT ... WHERE refresh_token = ?` on the same indexed table) and an
 * autocommit UPDATE in the same run, and beside the official Zoho SDK's DBStore on Zoho's own
 * table (no index, a connection per call; its iterations are capped). Target: findToken within
 * 1.5x of the raw point lookup, flat across sizes. Needs MySQL at ZTOKEN_MYSQL_URL.
 */
import { createRequire } from 'node:module';
import mysql from 'mysql2/promise';
import { DBStore } from '../../src/stores/mysql.js';
import type { OAuthToken } from '../../src/token.js';
import { MYSQL_URL } from '../../test/services.js';
import type { BenchContext } from '../lib.js';
import { seededRandom } from '../lib.js';

const SUITE = 'mysql';
const url = new URL(MYSQL_URL);
const target = {
  host: url.hostname,
  port: Number(url.port || 3306),
  user: decodeURIComponent(url.username || 'root'),
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

const ZOHO_TABLE = (table: string) =>
  `CREATE TABLE \`${table}\` (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id))`;

/** Rows from+1..to, 1,000 per multi-row INSERT (setup speed, not saveToken). */
async function bulkLoad(pool: mysql.Pool, table: string, from: number, to: number): Promise<void> {
  const BATCH = 1_000;
  for (let start = from + 1; start <= to; start += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, to - start + 1) }, (_, k) => start + k);
    await pool.query(`INSERT INTO \`${table}\` VALUES ${ids.map(() => '(?,?,?,?,?,?,?,?,?,?)').join(',')}`, ids.flatMap(rowOf));
  }
}

interface SdkApi {
  store: { findToken(t: unknown): Promise<{ getId(): string } | null>; saveToken(t: unknown): Promise<unknown> };
  byRefresh(refresh: string): unknown;
  forUpdate(i: number, access: string): unknown;
}

function officialSdk(table: string): SdkApi | null {
  try {
    const require = createRequire(import.meta.url);
    const base = '@zohocrm/typescript-sdk-8.0/dist';
    const { DBBuilder } = require(`${base}/models/authenticator/store/db_builder.js`);
    const { OAuthBuilder } = require(`${base}/models/authenticator/oauth_builder.js`);
    const { UserSignature } = require(`${base}/routes/user_signature.js`);
    const store = new DBBuilder()
      .host(target.host)
      .databaseName(target.database)
      .tableName(table)
      .userName(target.user)
      .password(target.password)
      .portNumber(target.port)
      .build();
    return {
      store,
      byRefresh: (refresh) => new OAuthBuilder().clientId(CLIENT.clientId).clientSecret(CLIENT.clientSecret).refreshToken(refresh).build(),
      forUpdate: (i, access) => {
        const t = new OAuthBuilder()
          .clientId(CLIENT.clientId)
          .clientSecret(CLIENT.clientSecret)
          .refreshToken(benchToken(i).refreshToken)
          .build();
        t.setUserSignature(new UserSignature(`user${i}@zylker.com`));
        t.setAccessToken(access);
        t.setExpiresIn('1767229200000');
        return t;
      },
    };
  } catch {
    return null;
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
  const sdkTable = `ztbench_sdk_${process.pid}`;
  const store = new DBStore({ ...target, table });
  const raw = mysql.createPool({ ...target, connectionLimit: 10 });
  const sdk = officialSdk(sdkTable);
  try {
    await store.getTokens(); // creates the table and its indexes
    await raw.query(ZOHO_TABLE(sdkTable));
    let loaded = 0;
    for (const size of ctx.sizes) {
      await bulkLoad(raw, table, loaded, size);
      await bulkLoad(raw, sdkTable, loaded, size);
      await raw.query(`ANALYZE TABLE \`${table}\``);
      loaded = size;

      const random = seededRandom(size);
      const picks = Array.from({ length: 4096 }, () => 1 + Math.floor(random() * size));
      const refresh = picks.map((n) => benchToken(n).refreshToken!);
      const partials = refresh.map((refreshToken) => ({ ...CLIENT, refreshToken }));
      let q = 0;
      const next = () => q++ & 4095;
      const lookup = `SELECT id, user_name, client_id, client_secret, refresh_token, access_token, grant_token, expiry_time, redirect_url, api_domain FROM \`${table}\` WHERE refresh_token = ?`;
      for (let i = 0; i < 1_000; i++) {
        const k = next();
        await raw.execute(lookup, [refresh[k]!]);
        await store.findToken(partials[k]!);
      }
      const finds = await interleaved(ctx, {
        raw: () => raw.execute(lookup, [refresh[next()]!]),
        ours: () => store.findToken(partials[next()]!),
      });
      ctx.record({
        suite: SUITE,
        subject: 'mysql2 pool (raw)',
        operation: 'SELECT ... WHERE refresh_token = ? (indexed)',
        tokens: size,
        ...finds.raw,
      });
      ctx.record({
        suite: SUITE,
        subject: 'DBStore',
        operation: 'findToken (by refresh token)',
        tokens: size,
        ...finds.ours,
        note: `${finds.ratio.toFixed(2)}x the raw lookup (median of ${ROUNDS} interleaved rounds)`,
      });

      let version = 0;
      const saves = await interleaved(ctx, {
        raw: () =>
          raw.execute(`UPDATE \`${table}\` SET access_token = ?, expiry_time = ? WHERE user_name = ?`, [
            `1000.access.raw.${++version}`,
            '1767229200000',
            `user${picks[next()]}@zylker.com`,
          ]),
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
        subject: 'mysql2 pool (raw)',
        operation: 'UPDATE ... WHERE user_name = ? (autocommit)',
        tokens: size,
        ...saves.raw,
      });
      ctx.record({
        suite: SUITE,
        subject: 'DBStore',
        operation: 'saveToken (update: transaction, row lock)',
        tokens: size,
        ...saves.ours,
        note: `${saves.ratio.toFixed(2)}x the raw UPDATE`,
      });
      const ourFind = finds.ours;
      const ourSave = saves.ours;

      if (sdk) {
        const capped = { timeMs: 200, iterations: size >= 100_000 ? 10 : 30 };
        const sdkFind = await ctx.measure(() => sdk.store.findToken(sdk.byRefresh(refresh[next()]!)), capped);
        ctx.record({
          suite: SUITE,
          subject: 'official SDK DBStore',
          operation: 'findToken (by refresh token)',
          tokens: size,
          ...sdkFind,
          note: `${(sdkFind.medianUs / ourFind.medianUs).toFixed(1)}x ours; no index, a connection per call`,
        });
        const sdkSave = await ctx.measure(() => sdk.store.saveToken(sdk.forUpdate(picks[next()]!, `1000.access.sdk.${++version}`)), capped);
        ctx.record({
          suite: SUITE,
          subject: 'official SDK DBStore',
          operation: 'saveToken (update)',
          tokens: size,
          ...sdkSave,
          note: `${(sdkSave.medianUs / ourSave.medianUs).toFixed(1)}x ours`,
        });
      }
    }
  } finally {
    await store.close();
    await raw.query(`DROP TABLE IF EXISTS \`${table}\``).catch(() => undefined);
    await raw.query(`DROP TABLE IF EXISTS \`${sdkTable}\``).catch(() => undefined);
    await raw.end();
  }
}
