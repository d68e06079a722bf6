/**
 * Every statement that find, findById, save (update and insert) and delete send to the token
 * table is served by an index: no table scan, no full index scan, no temp B-tree, no filesort.
 * The statements are the ones the stores really run (recorded as they pass to the driver), and
 * each is explained by the engine with its own bound values, on a table of a few thousand rows
 * in Zoho's format, analyzed so the planners judge as they would in production. No timings.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenToRow } from '../../src/row.js';
import type { TokenStore } from '../../src/store.js';
import { DBStore } from '../../src/stores/mysql.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import type { SqlDriver } from '../../src/stores/sql/sql-driver.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { CLIENT, sampleToken } from '../../src/testing/index.js';
import { MYSQL_URL, POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { mysqlAdmin, mysqlTarget, postgresAdmin, postgresTarget } from './helpers/sql-admin.js';

const ROWS = 3_000;

interface Sent {
  sql: string;
  params: readonly unknown[];
}

/** Zoho's ten columns of token number i, as the official SDK writes them. */
const zohoRow = (i: number) => tokenToRow({ ...sampleToken(`user${i}@zylker.com`), id: String(i) });

/** The hot operations, each run alone so its statements can be told apart. */
const OPERATIONS: [string, (store: TokenStore) => Promise<unknown>][] = [
  ['findToken by user name', (s) => s.findToken({ userName: 'user1500@zylker.com' })],
  ['findToken by access token', (s) => s.findToken({ accessToken: sampleToken('user1501@zylker.com').accessToken })],
  ['findToken by refresh token', (s) => s.findToken({ ...CLIENT, refreshToken: sampleToken('user1502@zylker.com').refreshToken })],
  ['findToken by grant token', (s) => s.findToken({ ...CLIENT, grantToken: '1000.grant.nobody' })],
  ['findTokenById', (s) => s.findTokenById('1503')],
  ['saveToken (update)', (s) => s.saveToken(sampleToken('user1504@zylker.com', { accessToken: '1000.access.updated' }))],
  ['saveToken (insert, new id)', (s) => s.saveToken(sampleToken('new-user@zylker.com'))],
  ['saveToken (by id)', (s) => s.saveToken({ ...sampleToken('user1505@zylker.com'), id: '1505' })],
  ['deleteToken', (s) => s.deleteToken('1506')],
];

/** Statements on the token table that read rows (an INSERT ... VALUES reads none). */
const touchesTable = (table: string) => (sent: Sent) => sent.sql.includes(table) && !/^\s*INSERT\b/i.test(sent.sql);

/** Runs each operation, collecting what it sent, and returns the problems `explain` finds per statement. */
async function planProblems(
  store: TokenStore,
  sent: Sent[],
  table: string,
  explain: (s: Sent) => Promise<string[]>,
): Promise<Record<string, string[]>> {
  const problems: Record<string, string[]> = {};
  for (const [name, run] of OPERATIONS) {
    sent.length = 0;
    await run(store);
    const statements = sent.filter(touchesTable(table));
    expect(statements.length, `${name} sent no statement on the table`).toBeGreaterThan(0);
    for (const statement of statements) {
      const found = await explain(statement);
      if (found.length > 0) problems[name] = [...(problems[name] ?? []), `${statement.sql.slice(0, 120)} -> ${found.join('; ')}`];
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// SQLite: better-sqlite3 statements record their source and arguments as they run.

function recordSqliteStatements(sent: Sent[]): () => void {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  const originals = (['get', 'all', 'run'] as const).map((method) => [method, proto[method]] as const);
  for (const [method, original] of originals) {
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      sent.push({ sql: this.source, params: args });
      return original?.apply(this, args);
    };
  }
  return () => {
    for (const [method, original] of originals) if (original) proto[method] = original;
  };
}

/** EXPLAIN QUERY PLAN details that are not an index search. */
function sqliteScans(db: Database.Database, statement: Sent): string[] {
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`).all(...statement.params) as { detail: string }[];
  return plan.map((row) => row.detail).filter((detail) => /^SCAN\b|TEMP B-TREE/.test(detail));
}

describe('query plans: SQLiteStore', () => {
  const sent: Sent[] = [];
  let restore: () => void;
  let store: SQLiteStore;
  let db: Database.Database;

  beforeAll(() => {
    store = new SQLiteStore({ path: ':memory:' });
    // The store's own connection (its table is in memory): the test only reads plans through it.
    db = (store as unknown as { db: Database.Database }).db;
    const insert = db.prepare('INSERT INTO oauthtoken VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= ROWS; i++) insert.run(...zohoRow(i));
    })();
    db.exec('ANALYZE');
    restore = recordSqliteStatements(sent);
  });
  afterAll(async () => {
    restore?.();
    await store?.close();
  });

  it('every statement of find, findById, save and delete searches an index', async () => {
    const problems = await planProblems(store, sent, 'oauthtoken', async (s) => sqliteScans(db, s));
    expect(problems).toEqual({});
  });

  it('the check catches a scan: with the user_name index dropped, a lookup by user name scans', async () => {
    db.exec('DROP INDEX "oauthtoken_user_name_idx"');
    try {
      const problems = await planProblems(store, sent, 'oauthtoken', async (s) => sqliteScans(db, s));
      expect(Object.keys(problems)).toContain('findToken by user name');
      expect(problems['findToken by user name']?.join()).toMatch(/SCAN oauthtoken/);
    } finally {
      db.exec('CREATE INDEX "oauthtoken_user_name_idx" ON oauthtoken ("user_name")');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// MySQL/MariaDB and PostgreSQL: the store's driver records each statement it runs.

function recordDriverStatements(driver: SqlDriver, sent: Sent[]): void {
  const query = driver.query.bind(driver);
  driver.query = (sql, params = []) => {
    sent.push({ sql, params });
    return query(sql, params);
  };
  const transaction = driver.transaction.bind(driver);
  driver.transaction = (fn) =>
    transaction((tx) => {
      const txQuery = tx.query.bind(tx);
      tx.query = (sql, params = []) => {
        sent.push({ sql, params });
        return txQuery(sql, params);
      };
      return fn(tx);
    });
}

const driverOf = (store: DBStore | PostgresStore) => (store as unknown as { driver: SqlDriver }).driver;

const mysqlAvailable = await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL');
describe.skipIf(!mysqlAvailable)('query plans: DBStore (MySQL/MariaDB)', () => {
  const table = uniqueName('zt11_plan');
  const sent: Sent[] = [];
  let store: DBStore;
  let admin: Awaited<ReturnType<typeof mysqlAdmin>>;

  beforeAll(async () => {
    admin = await mysqlAdmin();
    store = new DBStore({ ...mysqlTarget(), table });
    await store.getTokens(); // creates the table, its indexes and the id-number column
    for (let start = 1; start <= ROWS; start += 500) {
      const rows = Array.from({ length: 500 }, (_, k) => zohoRow(start + k));
      await admin.query(`INSERT INTO \`${table}\` VALUES ?`, [rows]);
    }
    await admin.query(`ANALYZE TABLE \`${table}\``);
    recordDriverStatements(driverOf(store), sent);
  });
  afterAll(async () => {
    await store?.close();
    await admin?.query(`DROP TABLE IF EXISTS \`${table}\``);
    await admin?.end();
  });

  it('every statement of find, findById, save and delete uses an index, without filesort or temporary table', async () => {
    const problems = await planProblems(store, sent, table, async (s) => {
      const [plan] = await admin.query(`EXPLAIN ${s.sql}`, [...s.params]);
      return (plan as { type: string | null; key: string | null; Extra: string | null }[])
        .filter((row) => row.type === 'ALL' || row.type === 'index' || /filesort|temporary/i.test(row.Extra ?? ''))
        .map((row) => `type ${row.type}, key ${row.key}, ${row.Extra ?? ''}`);
    });
    expect(problems).toEqual({});
  });
});

const postgresAvailable = await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL');
describe.skipIf(!postgresAvailable)('query plans: PostgresStore', () => {
  const table = uniqueName('zt11_plan');
  const sent: Sent[] = [];
  let store: PostgresStore;
  let admin: Awaited<ReturnType<typeof postgresAdmin>>;

  beforeAll(async () => {
    admin = await postgresAdmin();
    store = new PostgresStore({ ...postgresTarget(), table });
    await store.getTokens();
    for (let start = 1; start <= ROWS; start += 500) {
      const rows = Array.from({ length: 500 }, (_, k) => zohoRow(start + k));
      const tuples = rows.map((_, r) => `(${Array.from({ length: 10 }, (_, c) => `$${r * 10 + c + 1}`).join(',')})`);
      await admin.query(`INSERT INTO "${table}" VALUES ${tuples.join(',')}`, rows.flat());
    }
    // Statistics of the real table, so the planner picks what it would in production (no enable_seqscan tricks).
    await admin.query(`ANALYZE "${table}"`);
    recordDriverStatements(driverOf(store), sent);
  });
  afterAll(async () => {
    await store?.close();
    await admin?.query(`DROP TABLE IF EXISTS "${table}"`);
    await admin?.end();
  });

  it('every statement of find, findById, save and delete uses an index, without a sort', async () => {
    const problems = await planProblems(store, sent, table, async (s) => {
      const plan = (await admin.query(`EXPLAIN ${s.sql}`, [...s.params])).rows.map((r) => String(r['QUERY PLAN']));
      return plan.filter((line) => /Seq Scan|Sort\b/.test(line)).map((line) => line.trim());
    });
    expect(problems).toEqual({});
  });
});
