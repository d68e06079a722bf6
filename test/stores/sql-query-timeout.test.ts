/**
 * A MySQL/PostgreSQL server that hangs mid-query (here: a proxy in front of the real server stops
 * passing bytes) fails each call after queryTimeoutMs with UNAVAILABLE naming host:port, drops
 * the hung connection, writes nothing half-done, and the store works again once the server answers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DBStore } from '../../src/stores/mysql.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { sampleToken } from '../../src/testing/index.js';
import { MYSQL_URL, POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropMySqlTable, dropPostgresTable, mysqlTarget, postgresTarget } from './helpers/sql-admin.js';
import { pausableProxy } from './helpers/sql-net.js';
import { caughtStoreError } from '../helpers/errors.js';

interface Engine {
  name: 'mysql' | 'postgres';
  available: boolean;
  target: { host: string; port: number };
  open(options: { port: number; table: string; queryTimeoutMs: number; connectTimeoutMs: number }): DBStore | PostgresStore;
  drop(table: string): Promise<void>;
  invalid(queryTimeoutMs: number): unknown;
}

const engines: Engine[] = [
  {
    name: 'mysql',
    available: await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL'),
    target: mysqlTarget(),
    open: (o) => new DBStore({ ...mysqlTarget(), host: '127.0.0.1', ...o }),
    drop: (table) => dropMySqlTable(table),
    invalid: (queryTimeoutMs) => new DBStore({ queryTimeoutMs }),
  },
  {
    name: 'postgres',
    available: await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL'),
    target: postgresTarget(),
    open: (o) => new PostgresStore({ ...postgresTarget(), host: '127.0.0.1', ...o }),
    drop: (table) => dropPostgresTable(table),
    invalid: (queryTimeoutMs) => new PostgresStore({ queryTimeoutMs }),
  },
];

for (const engine of engines) {
  describe.skipIf(!engine.available)(`${engine.name}: a server that hangs mid-query`, () => {
    const tables: string[] = [];
    afterAll(async () => {
      for (const table of tables) await engine.drop(table);
    });

    it('each call fails after queryTimeoutMs with UNAVAILABLE naming host:port; nothing half-written; works again after', async () => {
      const table = uniqueName('zt_hang');
      tables.push(table);
      const proxy = await pausableProxy(engine.target.host, engine.target.port);
      const store = engine.open({ port: proxy.port, table, queryTimeoutMs: 400, connectTimeoutMs: 400 });
      try {
        const alice = await store.saveToken(sampleToken('alice'));
        // Several pooled connections, idle: the hang hits statements on open sessions, not connects.
        await Promise.all([store.getTokens(), store.findToken({ userName: 'alice' }), store.findToken({ userName: 'x' })]);
        proxy.pause();

        let started = Date.now();
        const readError = await caughtStoreError(store.getTokens());
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(readError.reason).toBe('UNAVAILABLE');
        expect(readError.message).toContain(`127.0.0.1:${proxy.port}`);
        expect(readError.message).toContain('did not answer within 400 ms');

        started = Date.now();
        const saveError = await caughtStoreError(store.saveToken(sampleToken('bob')));
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(saveError.reason).toBe('UNAVAILABLE');
        expect(saveError.message).toContain(`127.0.0.1:${proxy.port}`);

        started = Date.now();
        const lockError = await caughtStoreError(store.withLock('hang', 1_000, async () => 'never'));
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(lockError.reason).toBe('UNAVAILABLE');
        expect(lockError.message).toContain(`127.0.0.1:${proxy.port}`);

        proxy.resume();
        // The hung connections were dropped; new ones work. The failed save left nothing behind.
        expect(await store.findToken({ userName: 'alice' })).toEqual(alice);
        expect(await store.findToken({ userName: 'bob' })).toBeNull();
        expect((await store.saveToken(sampleToken('bob'))).id).toBe('2');
        expect(await store.withLock('hang', 1_000, async () => 'taken')).toBe('taken');
        expect((await store.getTokens()).map((t) => t.userName)).toEqual(['alice', 'bob']);
      } finally {
        await store.close();
        await proxy.close();
      }
    }, 30_000);

    it('rejects a queryTimeoutMs that is not a positive whole number', () => {
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        expect(() => engine.invalid(bad)).toThrow(/queryTimeoutMs/);
      }
    });
  });
}
