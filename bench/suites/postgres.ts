/**
 * Issue 3 benchmark, PostgresStore: findToken (by refresh token, random) and saveToken (update of
 * a random user) at 1,000 / 10,000 / 100,000 tokens, beside the raw pg Pool doing the same point
 * lookup (`SELECT ... WHERE refresh_token = $1` on the same indexed table, as a named prepared
 * statement like ours) and an autocommit UPDATE, measured in interleaved rounds in the same run.
 * Target: findToken within 1.5x of the raw point lookup, flat across sizes. Needs PostgreSQL at
 * ZTOKEN_POSTGRES_URL. The suite itself is bench/lib-stores.ts (runSqlSuite), shared with MySQL.
 */
import pg from 'pg';
import { PostgresStore } from '../../src/stores/postgres.js';
import { postgresTarget } from '../../test/stores/helpers/sql-admin.js';
import type { BenchContext } from '../lib.js';
import { runSqlSuite, type SqlBenchEngine } from '../lib-stores.js';

const target = postgresTarget();

/** The PostgreSQL engine of the SQL suite (the scale suite loads and opens its stores through it too). */
export const engine: SqlBenchEngine = {
  suite: 'postgres',
  subject: 'PostgresStore',
  rawSubject: 'pg Pool (raw)',
  lookupOperation: 'SELECT ... WHERE refresh_token = $1 (indexed, prepared)',
  updateOperation: 'UPDATE ... WHERE user_name = $3 (autocommit)',
  open: (table) => new PostgresStore({ ...target, table }),
  connect: () => {
    const pool = new pg.Pool({ ...target, max: 10 });
    pool.on('error', () => undefined);
    return {
      query: (sql, values) => pool.query(sql, values),
      prepared: (name, text, values) => pool.query({ name, text, values }),
      transaction: async (statements) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          for (const [text, values] of statements) await client.query(text, values);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
      end: () => pool.end(),
    };
  },
  quote: (identifier) => `"${identifier}"`,
  placeholder: (n) => `$${n}`,
  analyze: (table) => `ANALYZE ${table}`,
  newIdNote: 'largest numeric id from an expression index',
};

export async function run(ctx: BenchContext): Promise<void> {
  await runSqlSuite(ctx, engine);
}
