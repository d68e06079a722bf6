/**
 * Issue 3 benchmark, DBStore (MySQL/MariaDB): findToken (by refresh token, random) and saveToken
 * (update of a random user) at 1,000 / 10,000 / 100,000 tokens, beside the raw mysql2 pool doing
 * the same point lookup (`SELECT ... WHERE refresh_token = ?` on the same indexed table) and an
 * autocommit UPDATE in the same run, and beside the official Zoho SDK's DBStore on Zoho's own
 * table (no index, a connection per call; its iterations are capped). Target: findToken within
 * 1.5x of the raw point lookup, flat across sizes. Needs MySQL at ZTOKEN_MYSQL_URL. The suite
 * itself is bench/lib-stores.ts (runSqlSuite), shared with PostgreSQL.
 */
import { createRequire } from 'node:module';
import mysql from 'mysql2/promise';
import { DBStore } from '../../src/stores/mysql.js';
import { mysqlTarget } from '../../test/stores/helpers/sql-admin.js';
import type { BenchContext } from '../lib.js';
import { BENCH_CLIENT, type Beside, benchToken, bulkLoad, runSqlSuite, type SqlBenchEngine } from '../lib-stores.js';

const SUITE = 'mysql';
const target = mysqlTarget();
const quote = (identifier: string) => `\`${identifier}\``;

const ZOHO_TABLE = (table: string) =>
  `CREATE TABLE ${quote(table)} (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), api_domain varchar(255), primary key (id))`;

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
    const client = () => new OAuthBuilder().clientId(BENCH_CLIENT.clientId).clientSecret(BENCH_CLIENT.clientSecret);
    return {
      store,
      byRefresh: (refresh) => client().refreshToken(refresh).build(),
      forUpdate: (i, access) => {
        const t = client().refreshToken(benchToken(i).refreshToken).build();
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

/** The official SDK's DBStore on a table made with Zoho's SQL, holding the same tokens. */
function officialSdkBeside(): Beside | null {
  const table = `ztbench_sdk_${process.pid}`;
  const sdk = officialSdk(table);
  if (!sdk) return null;
  return {
    load: async (raw, loaded, size) => {
      if (loaded === 0) await raw.query(ZOHO_TABLE(table));
      await bulkLoad(engine, raw, table, loaded, size);
    },
    measure: async (ctx, { size, picks, refresh, next, version, ours }) => {
      const capped = { timeMs: 200, iterations: size >= 100_000 ? 10 : 30 };
      const sdkFind = await ctx.measure(() => sdk.store.findToken(sdk.byRefresh(refresh[next()]!)), capped);
      ctx.record({
        suite: SUITE,
        subject: 'official SDK DBStore',
        operation: 'findToken (by refresh token)',
        tokens: size,
        ...sdkFind,
        note: `${(sdkFind.medianUs / ours.find.medianUs).toFixed(1)}x ours; no index, a connection per call`,
      });
      const sdkSave = await ctx.measure(() => sdk.store.saveToken(sdk.forUpdate(picks[next()]!, `1000.access.sdk.${version()}`)), capped);
      ctx.record({
        suite: SUITE,
        subject: 'official SDK DBStore',
        operation: 'saveToken (update)',
        tokens: size,
        ...sdkSave,
        note: `${(sdkSave.medianUs / ours.save.medianUs).toFixed(1)}x ours`,
      });
    },
    drop: (raw) => raw.query(`DROP TABLE IF EXISTS ${quote(table)}`),
  };
}

/** The MySQL engine of the SQL suite (the scale suite loads and opens its stores through it too). */
export const engine: SqlBenchEngine = {
  suite: SUITE,
  subject: 'DBStore',
  rawSubject: 'mysql2 pool (raw)',
  lookupOperation: 'SELECT ... WHERE refresh_token = ? (indexed)',
  updateOperation: 'UPDATE ... WHERE user_name = ? (autocommit)',
  open: (table) => new DBStore({ ...target, table }),
  connect: () => {
    const pool = mysql.createPool({ ...target, connectionLimit: 10 });
    return {
      query: (sql, values) => pool.query(sql, values),
      prepared: (_name, sql, values) => pool.execute(sql, values as mysql.ExecuteValues[]),
      transaction: async (statements) => {
        const connection = await pool.getConnection();
        try {
          await connection.beginTransaction();
          for (const [sql, values] of statements) await connection.query(sql, values);
          await connection.commit();
        } catch (error) {
          await connection.rollback().catch(() => undefined);
          throw error;
        } finally {
          connection.release();
        }
      },
      end: () => pool.end(),
    };
  },
  quote,
  placeholder: () => '?',
  analyze: (table) => `ANALYZE TABLE ${table}`,
  newIdNote: 'largest numeric id: cached, checked by primary key, and a scan of the ids for a larger one (no expression index in MariaDB)',
  beside: officialSdkBeside,
};

export async function run(ctx: BenchContext): Promise<void> {
  await runSqlSuite(ctx, engine);
}
