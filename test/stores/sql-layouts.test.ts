/**
 * SQL stores on every token-table layout (src/stores/sql/table-layouts.ts), on SQLite, MySQL and
 * PostgreSQL: a Python SDK 8.0 MultiDBStore table made by hand exactly as SQLAlchemy makes it
 * round-trips both ways; each layout's table is created by the layout option and read back as
 * that layout; unknown or mismatched tables are refused; the conformance kit runs on the Python
 * and v2 layouts. The official Node SDKs' own DBStores are in sql-layouts-mysql-sdk.test.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import type { TokenStore } from '../../src/store.js';
import { DBStore } from '../../src/stores/mysql.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { absentFields, TABLE_LAYOUTS, type TableLayoutName } from '../../src/stores/sql/table-layouts.js';
import { SQLiteStore } from '../../src/stores/sqlite.js';
import { openStore } from '../../src/stores/url.js';
import { CLIENT, runTokenStoreConformance, sampleToken } from '../../src/testing/index.js';
import { caughtStoreError } from '../helpers/errors.js';
import { MYSQL_URL, POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { mysqlTarget, postgresTarget } from './helpers/sql-admin.js';
import {
  columnNames,
  indexedColumns,
  PYTHON_COLUMNS,
  pythonDdl,
  type RawSql,
  rawMySql,
  rawPostgres,
  rawSqlite,
  zcrmsdkDdl,
  zohoV2Ddl,
} from './helpers/sql-layout-tables.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
type LayoutStore = TokenStore & { tableLayout(): Promise<{ name: TableLayoutName; absentFields: string[] }> };

interface Engine {
  name: string;
  available: boolean;
  raw(): Promise<RawSql & { path?: string }>;
  open(raw: RawSql & { path?: string }, table: string, layout?: TableLayoutName): LayoutStore;
}

const mysqlUp = await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL');
const postgresUp = await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL');

const ENGINES: Engine[] = [
  {
    name: 'SQLite',
    available: true,
    raw: async () => rawSqlite(),
    open: (raw, table, layout) => new SQLiteStore({ path: raw.path as string, table, ...(layout ? { layout } : {}) }),
  },
  {
    name: 'MySQL',
    available: mysqlUp,
    raw: rawMySql,
    open: (_raw, table, layout) => new DBStore({ ...mysqlTarget(), table, ...(layout ? { layout } : {}) }),
  },
  {
    name: 'PostgreSQL',
    available: postgresUp,
    raw: rawPostgres,
    open: (_raw, table, layout) => new PostgresStore({ ...postgresTarget(), table, ...(layout ? { layout } : {}) }),
  },
];

/** Opens a store (SQLiteStore reads its table as it opens, the others at first use), runs fn, closes it. */
async function using<T>(
  open: Engine['open'],
  raw: RawSql & { path?: string },
  table: string,
  layout: TableLayoutName | undefined,
  fn: (store: LayoutStore) => Promise<T>,
): Promise<T> {
  const store = open(raw, table, layout);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

for (const engine of ENGINES) {
  describe.skipIf(!engine.available)(`${engine.name}: the Python SDK 8.0 MultiDBStore table`, () => {
    const table = uniqueName('zt_py');
    let raw: RawSql & { path?: string };
    let ours: LayoutStore;
    const pythonId = randomUUID();

    beforeAll(async () => {
      raw = await engine.raw();
      for (const statement of pythonDdl(table)) await raw.query(statement);
      ours = engine.open(raw, table);
    });
    afterAll(async () => {
      await ours?.close();
      await raw?.query(`DROP TABLE IF EXISTS ${table}`);
      await raw?.end();
    });

    it('a row the Python SDK wrote (uuid id) is read with every field, found by every rule and by id', async () => {
      // MultiDBStore.save_token: session.add(DBOAuthToken(id=str(uuid4()), ...)) with expiry_time a string of ms.
      await raw.query(`INSERT INTO ${table} (${PYTHON_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        pythonId,
        'py@zylker.com',
        CLIENT.clientId,
        CLIENT.clientSecret,
        '1000.refresh.python.0123456789',
        '1000.access.python.0123456789',
        null,
        'https://py.example.com/callback',
        'https://www.zohoapis.eu',
        '1767225600000',
      ]);
      const expected = {
        id: pythonId,
        userName: 'py@zylker.com',
        ...CLIENT,
        refreshToken: '1000.refresh.python.0123456789',
        accessToken: '1000.access.python.0123456789',
        expiryTime: 1767225600000,
        redirectUrl: 'https://py.example.com/callback',
        apiDomain: 'https://www.zohoapis.eu',
      };
      expect(await ours.tableLayout()).toEqual({ name: 'python', absentFields: [] });
      expect(await ours.findToken({ userName: 'py@zylker.com' })).toEqual(expected);
      expect(await ours.findToken({ ...CLIENT, refreshToken: '1000.refresh.python.0123456789' })).toEqual(expected);
      expect(await ours.findToken({ accessToken: '1000.access.python.0123456789' })).toEqual(expected);
      expect(await ours.findTokenById(pythonId)).toEqual(expected);
      expect(await ours.getTokens()).toEqual([expected]);
    });

    it('a token our store saved gets a uuid v4 id and is what the Python SDK reads, column by column', async () => {
      const saved = await ours.saveToken({
        userName: 'ours@zylker.com',
        ...CLIENT,
        refreshToken: '1000.refresh.ours.0123456789',
        accessToken: '1000.access.ours.0123456789',
        grantToken: '1000.grant.ours.0123456789',
        expiryTime: 1767225600123,
        redirectUrl: 'https://ours.example.com/callback',
        apiDomain: 'https://www.zohoapis.com',
      });
      expect(saved.id).toMatch(UUID_V4);
      // MultiDBStore.find_token: query(DBOAuthToken).filter_by(user_name=...).first()
      const rows = await raw.query(`SELECT ${PYTHON_COLUMNS.join(', ')} FROM ${table} WHERE user_name = ?`, ['ours@zylker.com']);
      expect(rows).toEqual([
        {
          id: saved.id,
          user_name: 'ours@zylker.com',
          client_id: CLIENT.clientId,
          client_secret: CLIENT.clientSecret,
          refresh_token: '1000.refresh.ours.0123456789',
          access_token: '1000.access.ours.0123456789',
          grant_token: '1000.grant.ours.0123456789',
          redirect_url: 'https://ours.example.com/callback',
          api_domain: 'https://www.zohoapis.com',
          expiry_time: '1767225600123',
        },
      ]);
      // find_token_by_id: filter_by(id=...)
      expect(await raw.query(`SELECT user_name FROM ${table} WHERE id = ?`, [saved.id])).toEqual([{ user_name: 'ours@zylker.com' }]);
    });

    it('each updates the rows of the other in place, keeping the uuid', async () => {
      // The Python SDK refreshes: UPDATE ... SET access_token, expiry_time WHERE id = :id
      await raw.query(`UPDATE ${table} SET access_token = ?, expiry_time = ? WHERE id = ?`, [
        '1000.access.python.refreshed',
        '1767229200000',
        pythonId,
      ]);
      expect(await ours.findToken({ userName: 'py@zylker.com' })).toMatchObject({
        id: pythonId,
        accessToken: '1000.access.python.refreshed',
        expiryTime: 1767229200000,
      });
      const updated = await ours.saveToken(sampleToken('py@zylker.com', { accessToken: '1000.access.python.by-ours' }));
      expect(updated.id).toBe(pythonId);
      expect(await raw.query(`SELECT access_token FROM ${table} WHERE id = ?`, [pythonId])).toEqual([
        { access_token: '1000.access.python.by-ours' },
      ]);
      expect(await raw.query(`SELECT COUNT(*) AS n FROM ${table}`)).toEqual([{ n: engine.name === 'PostgreSQL' ? '2' : 2 }]);
      await ours.deleteToken(pythonId);
      expect(await raw.query(`SELECT id FROM ${table} WHERE id = ?`, [pythonId])).toEqual([]);
    });

    it("adds nothing to the Python table: SQLAlchemy's four indexes serve every lookup, and no id-number index is needed", async () => {
      expect(await columnNames(raw, table)).toEqual([...PYTHON_COLUMNS]);
      const indexes = (await indexedColumns(raw, table)).filter((i) => i.startsWith('ix_'));
      expect(indexes).toEqual(['access_token', 'grant_token', 'refresh_token', 'user_name'].map((c) => `ix_${table}_${c}:${c}`));
      const ours = (await indexedColumns(raw, table)).filter(
        (i) => !i.startsWith('ix_') && !/^(PRIMARY|.*pkey|sqlite_autoindex.*):id$/.test(i),
      );
      expect(ours).toEqual([]);
    });

    it('ids are checked against the uuid column: 36 characters pass, 37 are refused', async () => {
      expect(await ours.findTokenById('x'.repeat(36))).toBeNull();
      expect((await caughtStoreError(ours.findTokenById('x'.repeat(37)))).reason).toBe('INVALID_ARGUMENT');
      expect((await caughtStoreError(ours.saveToken(sampleToken('long', { id: 'x'.repeat(37) })))).reason).toBe('INVALID_ARGUMENT');
    });
  });

  describe.skipIf(!engine.available)(
    `${engine.name}: the layout option makes each layout's table, and it is read back as that layout`,
    () => {
      let raw: RawSql & { path?: string };
      const tables: string[] = [];
      beforeAll(async () => {
        raw = await engine.raw();
      });
      afterAll(async () => {
        for (const table of tables) await raw?.query(`DROP TABLE IF EXISTS ${table}`);
        await raw?.end();
      });

      for (const layout of Object.values(TABLE_LAYOUTS)) {
        it(`${layout.name}: ${layout.createOrder.join(', ')}`, async () => {
          const table = uniqueName(`zt_${layout.name.replace('-', '')}`);
          tables.push(table);
          const created = engine.open(raw, table, layout.name);
          const saved = await created.saveToken(sampleToken('made@zylker.com'));
          await created.close();
          expect(await columnNames(raw, table)).toEqual([...layout.createOrder]);
          const reopened = engine.open(raw, table);
          try {
            const absent = absentFields(layout);
            expect(await reopened.tableLayout()).toEqual({ name: layout.name, absentFields: absent });
            expect(absent).toEqual(
              { 'zoho-v6': [], 'zoho-v2': ['apiDomain'], zcrmsdk: ['clientSecret', 'redirectUrl', 'apiDomain'], python: [] }[layout.name],
            );
            const expected = { ...sampleToken('made@zylker.com'), id: saved.id } as Record<string, unknown>;
            for (const field of absent) delete expected[field];
            expect(saved).toEqual(expected);
            expect(await reopened.findToken({ userName: 'made@zylker.com' })).toEqual(expected);
            if (layout.newIds === 'uuid') expect(saved.id).toMatch(UUID_V4);
            else expect(saved.id).toBe('1');
          } finally {
            await reopened.close();
          }
        });
      }

      it('refuses a table of no known layout, naming the layouts and what it lacks, and writes nothing', async () => {
        const table = uniqueName('zt_odd');
        tables.push(table);
        await raw.query(`CREATE TABLE ${table} (id varchar(10) NOT NULL, user_name varchar(255), token varchar(255), PRIMARY KEY (id))`);
        const error = await caughtStoreError(using(engine.open, raw, table, undefined, (store) => store.saveToken(sampleToken('a'))));
        expect(error.reason).toBe('CORRUPT');
        expect(error.message).toMatch(/not a token table of any known layout \(zoho-v6, zoho-v2, zcrmsdk, python\)/);
        expect(error.message).toContain('client_id');
        expect(await raw.query(`SELECT * FROM ${table}`)).toEqual([]);
      });

      it('refuses a layout option that disagrees with the existing table', async () => {
        const table = uniqueName('zt_v2');
        tables.push(table);
        await raw.query(zohoV2Ddl(table));
        const error = await caughtStoreError(using(engine.open, raw, table, 'python', (store) => store.getTokens()));
        expect(error.reason).toBe('CORRUPT');
        expect(error.message).toMatch(
          /is not a python table .* lacks column\(s\) user_name, api_domain; its columns are those of layout zoho-v2/,
        );
      });

      it("a v2 table made with Zoho's SQL (user_mail NOT NULL) refuses a token without a user by name, storing nothing", async () => {
        const table = uniqueName('zt_v2nn');
        tables.push(table);
        await raw.query(zohoV2Ddl(table));
        const store = engine.open(raw, table);
        try {
          const error = await caughtStoreError(store.saveToken({ ...CLIENT, refreshToken: '1000.refresh.nameless' }));
          expect(error.reason).toBe('INVALID_TOKEN');
          expect(error.field).toBe('userName');
          expect(error.message).toContain('user_mail is NOT NULL');
          expect(await store.getTokens()).toEqual([]);
          // The v2 SDKs' ids (typescript_<mail>_<environment>_<last 32 of the refresh token>) are read and found.
          const sdkId = `typescript_v2@zylker.com_US_PROD_${'a'.repeat(32)}`;
          await raw.query(`INSERT INTO ${table} (id, user_mail, client_id, refresh_token) VALUES (?, ?, ?, ?)`, [
            sdkId,
            'v2@zylker.com',
            CLIENT.clientId,
            '1000.refresh.v2',
          ]);
          expect(await store.findTokenById(sdkId)).toEqual({
            id: sdkId,
            userName: 'v2@zylker.com',
            clientId: CLIENT.clientId,
            refreshToken: '1000.refresh.v2',
          });
          expect((await store.saveToken({ userName: 'next@zylker.com', accessToken: '1000.access.next' })).id).toBe('1');
          expect((await caughtStoreError(store.findTokenById('x'.repeat(256)))).reason).toBe('INVALID_ARGUMENT');
        } finally {
          await store.close();
        }
      });

      it("a zcrmsdk table: its 'null' texts are absent, its whole-number ids are counted, a non-numeric id names no row", async () => {
        const table = uniqueName('zt_zc');
        tables.push(table);
        await raw.query(
          engine.name === 'MySQL'
            ? zcrmsdkDdl(table)
            : `CREATE TABLE ${table} (id integer NOT NULL, user_mail varchar(255) NOT NULL, client_id varchar(255), refresh_token varchar(255), access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), PRIMARY KEY (id))`,
        );
        // zcrmsdk's saveToken writes every value quoted, so a null one becomes the text 'null'.
        await raw.query(
          `INSERT INTO ${table} (id, user_mail, client_id, refresh_token, access_token, grant_token, expiry_time) VALUES (7, 'zc@zylker.com', ?, '1000.refresh.zc', '1000.access.zc', 'null', '1767225600000')`,
          [CLIENT.clientId],
        );
        const store = engine.open(raw, table);
        try {
          expect(await store.tableLayout()).toEqual({ name: 'zcrmsdk', absentFields: ['clientSecret', 'redirectUrl', 'apiDomain'] });
          const expected = {
            id: '7',
            userName: 'zc@zylker.com',
            clientId: CLIENT.clientId,
            refreshToken: '1000.refresh.zc',
            accessToken: '1000.access.zc',
            expiryTime: 1767225600000,
          };
          expect(await store.findToken({ userName: 'zc@zylker.com' })).toEqual(expected);
          expect(await store.findTokenById('7')).toEqual(expected);
          expect(await store.findTokenById('07')).toBeNull();
          expect(await store.findTokenById('7x')).toBeNull();
          await store.deleteToken('7x');
          expect(await store.getTokens()).toEqual([expected]);
          expect((await caughtStoreError(store.saveToken(sampleToken('b', { id: 'b1' })))).reason).toBe('INVALID_ARGUMENT');
          expect((await store.saveToken(sampleToken('next@zylker.com'))).id).toBe('8');
        } finally {
          await store.close();
        }
      });
    },
  );
}

describe('layout names in options and URLs', () => {
  it('an unknown layout is refused, listing the known ones', async () => {
    expect(() => new SQLiteStore({ path: ':memory:', layout: 'v9' as never })).toThrow(
      /layout "v9": expected one of zoho-v6, zoho-v2, zcrmsdk, python/,
    );
    await expect(openStore('sqlite::memory:?layout=v9')).rejects.toThrow(/expected one of zoho-v6, zoho-v2, zcrmsdk, python/);
  });

  it('?layout= chooses the layout of a new table', async () => {
    const store = (await openStore('sqlite::memory:?layout=python')) as LayoutStore;
    try {
      expect(await store.tableLayout()).toEqual({ name: 'python', absentFields: [] });
      expect((await store.saveToken(sampleToken('a'))).id).toMatch(UUID_V4);
    } finally {
      await store.close();
    }
  });

  it('EncryptedStore over a Python table keeps its uuid ids, and over a v2 table returns no api domain it could not keep', async () => {
    const keys = [{ id: 'k1', key: randomBytes(32) }];
    const python = new EncryptedStore(new SQLiteStore({ path: ':memory:', layout: 'python' }), { keys });
    const v2 = new EncryptedStore(new SQLiteStore({ path: ':memory:', layout: 'zoho-v2' }), { keys });
    try {
      const saved = await python.saveToken(sampleToken('enc@zylker.com'));
      expect(saved.id).toMatch(UUID_V4);
      expect(await python.findTokenById(saved.id)).toEqual(saved);
      expect(
        await python.saveToken({ ...sampleToken('enc@zylker.com', { accessToken: '1000.access.again' }), id: saved.id }),
      ).toMatchObject({
        id: saved.id,
      });
      await python.deleteToken(saved.id);
      expect(await python.getTokens()).toEqual([]);
      const kept = await v2.saveToken(sampleToken('enc@zylker.com'));
      expect(kept.apiDomain).toBeUndefined();
      expect(await v2.findTokenById(kept.id)).toEqual(kept);
    } finally {
      await python.close();
      await v2.close();
    }
  });

  it('a v6 table keeps refusing ids longer than 10 characters (the uuid allowance is the Python layout only)', async () => {
    const store = new SQLiteStore({ path: ':memory:' });
    try {
      expect((await caughtStoreError(store.findTokenById(randomUUID()))).reason).toBe('INVALID_ARGUMENT');
      expect((await caughtStoreError(store.saveToken(sampleToken('a', { id: randomUUID() })))).reason).toBe('INVALID_ARGUMENT');
    } finally {
      await store.close();
    }
  });
});

// The conformance kit on the Python layout (tables made by hand as SQLAlchemy makes them) and on the v2 layout.
runTokenStoreConformance({
  name: 'SQLiteStore, Python SDK table',
  create: async () => {
    const raw = rawSqlite();
    for (const statement of pythonDdl('oauthtoken')) await raw.query(statement);
    const store = new SQLiteStore({ path: raw.path });
    return Object.assign(store, { raw });
  },
  cleanup: async (store) => {
    await store.close();
    await (store as unknown as { raw: RawSql }).raw.end();
  },
  newIds: 'uuid',
  maxIdLength: 36,
});

runTokenStoreConformance({
  name: 'SQLiteStore, v2 SDK table',
  create: () => new SQLiteStore({ path: ':memory:', layout: 'zoho-v2' }),
  maxIdLength: 255,
  absentFields: ['apiDomain'],
});

const remote: [string, boolean, () => Promise<RawSql>, (table: string, layout?: TableLayoutName) => TokenStore][] = [
  ['DBStore', mysqlUp, rawMySql, (table, layout) => new DBStore({ ...mysqlTarget(), table, ...(layout ? { layout } : {}) })],
  [
    'PostgresStore',
    postgresUp,
    rawPostgres,
    (table, layout) => new PostgresStore({ ...postgresTarget(), table, ...(layout ? { layout } : {}) }),
  ],
];
for (const [name, up, connect, open] of remote) {
  if (!up) continue;
  const made = new WeakMap<TokenStore, string>();
  const drop = async (store: TokenStore) => {
    await store.close();
    const raw = await connect();
    await raw.query(`DROP TABLE IF EXISTS ${made.get(store)}`);
    await raw.end();
  };
  runTokenStoreConformance({
    name: `${name}, Python SDK table`,
    create: async () => {
      const table = uniqueName('zt_pyk');
      const raw = await connect();
      for (const statement of pythonDdl(table)) await raw.query(statement);
      await raw.end();
      const store = open(table);
      made.set(store, table);
      return store;
    },
    cleanup: drop,
    newIds: 'uuid',
    maxIdLength: 36,
    propertyRuns: 10,
  });
  runTokenStoreConformance({
    name: `${name}, v2 SDK table`,
    create: () => {
      const table = uniqueName('zt_v2k');
      const store = open(table, 'zoho-v2');
      made.set(store, table);
      return store;
    },
    cleanup: drop,
    maxIdLength: 255,
    absentFields: ['apiDomain'],
    propertyRuns: 10,
  });
}
