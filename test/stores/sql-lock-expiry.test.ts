/**
 * Locks expire after their ttl whatever the holder does: a holder frozen with SIGSTOP (alive, its
 * own ttl timer never runs) is ended by the waiter once its lock has expired, never before; the
 * holder, resumed, cannot release the new owner's lock; a live holder within its ttl is never
 * ended. MySQL/MariaDB and PostgreSQL, each in a database/schema of its own (the side table
 * ztoken_locks is created there and dropped with it).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DBStore } from '../../src/stores/mysql.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import { bundleScript } from '../helpers/bundle.js';
import { MYSQL_URL, POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { mysqlAdmin, mysqlTarget, postgresAdmin, postgresTarget, waitFor } from './helpers/sql-admin.js';
import { startChild } from './helpers/sql-children.js';
import { type LockRecord, mysqlLockRecords, mysqlSessionAlive, postgresLockRecords, postgresSessionAlive } from './helpers/sql-locks.js';

const TTL_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Engine {
  name: 'mysql' | 'postgres';
  available: boolean;
  /** Creates the engine's own database (MySQL) or schema (PostgreSQL); returns store options. */
  setup(): Promise<Record<string, unknown>>;
  teardown(): Promise<void>;
  open(options: Record<string, unknown>): DBStore | PostgresStore;
  records(): Promise<LockRecord[]>;
  /** Drops the side table behind the stores' backs. */
  dropLockTable(): Promise<void>;
  alive(session: number): Promise<boolean>;
}

function mysqlEngine(available: boolean): Engine {
  const database = uniqueName('zt_lock');
  return {
    name: 'mysql',
    available,
    setup: async () => {
      const admin = await mysqlAdmin();
      await admin.query(`CREATE DATABASE \`${database}\``);
      await admin.end();
      return { ...mysqlTarget(), database, table: 'tokens' };
    },
    teardown: async () => {
      const admin = await mysqlAdmin();
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await admin.end();
    },
    open: (options) => new DBStore(options),
    records: () => mysqlLockRecords(database),
    dropLockTable: async () => {
      const admin = await mysqlAdmin(database);
      await admin.query('DROP TABLE ztoken_locks');
      await admin.end();
    },
    alive: mysqlSessionAlive,
  };
}

function postgresEngine(available: boolean): Engine {
  const schema = uniqueName('zt_lock');
  return {
    name: 'postgres',
    available,
    setup: async () => {
      const admin = await postgresAdmin();
      await admin.query(`CREATE SCHEMA "${schema}"`);
      await admin.end();
      return { ...postgresTarget(), schema, table: 'tokens' };
    },
    teardown: async () => {
      const admin = await postgresAdmin();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
    open: (options) => new PostgresStore(options),
    records: () => postgresLockRecords(schema),
    dropLockTable: async () => {
      const admin = await postgresAdmin();
      await admin.query(`DROP TABLE "${schema}".ztoken_locks`);
      await admin.end();
    },
    alive: postgresSessionAlive,
  };
}

const engines = [
  mysqlEngine(await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL')),
  postgresEngine(await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL')),
];
const script = bundleScript(join(import.meta.dirname, 'helpers', 'sql-lock-holder.ts'));

for (const engine of engines) {
  describe.skipIf(!engine.available)(`${engine.name}: withLock expiry enforced by waiters`, () => {
    let options: Record<string, unknown>;
    beforeAll(async () => {
      options = await engine.setup();
    });
    afterAll(async () => {
      await engine.teardown();
    });

    const heldRecord = async () => (await engine.records()).find((r) => r.held) ?? null;

    it('a holder frozen with SIGSTOP loses the lock at its ttl, not before, and once resumed cannot release the new owner', async () => {
      const key = 'refresh:frozen';
      // Its function ends just before its ttl (900 ms), so once resumed it goes on to release the lock.
      const holder = startChild(script, [engine.name, JSON.stringify(options), key, String(TTL_MS), String(TTL_MS - 100)]);
      const waiter = engine.open(options);
      try {
        const triedAt = Number((await holder.next((l) => l.startsWith('trying '))).split(' ')[1]);
        const heldAt = Number((await holder.next((l) => l.startsWith('holding '))).split(' ')[1]);
        holder.child.kill('SIGSTOP');
        const frozen = await waitFor(heldRecord, 'the frozen holder to be recorded');
        let tookAt = 0;
        const result = await waiter.withLock(key, 5_000, async () => {
          tookAt = Date.now();
          const mine = await waitFor(heldRecord, 'the new owner to be recorded');
          expect(mine.name).toBe(frozen.name);
          expect(mine.owner).not.toBe(frozen.owner);
          expect(mine.session).not.toBe(frozen.session);
          await waitFor(async () => !(await engine.alive(frozen.session)), "the frozen holder's session to end");
          // Resumed, the old holder finishes its function and releases what it thinks it holds.
          holder.child.kill('SIGCONT');
          expect(await holder.next((l) => /^(returned|failed)/.test(l))).toMatch(/^returned /);
          expect((await holder.exited).code).toBe(0);
          // The lock is still ours, held by our session.
          expect(await heldRecord()).toEqual(mine);
          return 'taken';
        });
        expect(result).toBe('taken');
        const waitedMs = tookAt - heldAt;
        console.log(`${engine.name}: frozen holder (ttl ${TTL_MS} ms): the waiter took the lock ${waitedMs} ms after the holder took it`);
        // Not before the ttl, which started after the holder asked for the lock (server and test
        // share this machine's clock), and soon after it, counted from when the holder had it.
        expect(tookAt - triedAt).toBeGreaterThanOrEqual(TTL_MS - 50);
        expect(waitedMs).toBeLessThan(TTL_MS + 1_000);
      } finally {
        holder.child.kill('SIGKILL');
        await waiter.close();
      }
    }, 30_000);

    it('a live holder within its ttl is never ended: the waiter waits and the holder finishes normally', async () => {
      const key = 'refresh:live';
      const a = engine.open(options);
      const b = engine.open(options);
      try {
        let started!: () => void;
        const aStarted = new Promise<void>((resolve) => (started = resolve));
        let aEnd = 0;
        const aDone = a.withLock(key, 3_000, async () => {
          started();
          const first = await waitFor(heldRecord, 'the holder to be recorded');
          await sleep(1_500);
          // Same session, still holding: nobody ended it while the waiter polled.
          expect(await heldRecord()).toEqual(first);
          expect(await engine.alive(first.session)).toBe(true);
          aEnd = Date.now();
          return 'a finished';
        });
        await aStarted;
        const bEnteredAt = b.withLock(key, 3_000, async () => Date.now());
        expect(await aDone).toBe('a finished');
        expect(await bEnteredAt).toBeGreaterThanOrEqual(aEnd);
      } finally {
        await a.close();
        await b.close();
      }
    }, 30_000);

    it('a side table dropped under a running store is created again by the next withLock', async () => {
      const store = engine.open(options);
      try {
        expect(await store.withLock('refresh:dropped', 2_000, async () => 'first')).toBe('first');
        await engine.dropLockTable();
        expect(await store.withLock('refresh:dropped', 2_000, async () => (await engine.records()).filter((r) => r.held).length)).toBe(1);
      } finally {
        await store.close();
      }
    });
  });
}
