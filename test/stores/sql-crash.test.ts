/**
 * A writer killed with SIGKILL at random moments never leaves a partial token, a duplicate user
 * or a lost acknowledged save, on MySQL/MariaDB and PostgreSQL. Each round: a bundled writer child
 * (plain `node`) saves continuously, is killed a random few milliseconds after its first save,
 * and the table is checked through a store of the test's own; between rounds two users are
 * deleted so that later writers insert them again (the insert path, under kills too).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TokenStore } from '../../src/store.js';
import { DBStore } from '../../src/stores/mysql.js';
import { PostgresStore } from '../../src/stores/postgres.js';
import type { StoredToken } from '../../src/token.js';
import { bundleScript } from '../helpers/bundle.js';
import { MYSQL_URL, POSTGRES_URL, serviceAvailable, uniqueName } from '../services.js';
import { dropMySqlTable, dropPostgresTable, mysqlTarget, postgresTarget } from './helpers/sql-admin.js';
import { type ChildLines, startChild } from './helpers/sql-children.js';
import { crashStamp, crashToken } from './helpers/sql-crash-token.js';

const KILLS = 100;
const USERS = 20;

interface Engine {
  name: 'mysql' | 'postgres';
  available: boolean;
  options: Record<string, unknown> & { table: string };
  open(): TokenStore;
  drop(): Promise<void>;
}

const mysqlTable = uniqueName('zt_crash');
const postgresTable = uniqueName('zt_crash');
const engines: Engine[] = [
  {
    name: 'mysql',
    available: await serviceAvailable('MySQL', MYSQL_URL, 'ZTOKEN_MYSQL_URL'),
    options: { ...mysqlTarget(), table: mysqlTable },
    open: () => new DBStore({ ...mysqlTarget(), table: mysqlTable }),
    drop: () => dropMySqlTable(mysqlTable),
  },
  {
    name: 'postgres',
    available: await serviceAvailable('PostgreSQL', POSTGRES_URL, 'ZTOKEN_POSTGRES_URL'),
    options: { ...postgresTarget(), table: postgresTable },
    open: () => new PostgresStore({ ...postgresTarget(), table: postgresTable }),
    drop: () => dropPostgresTable(postgresTable),
  },
];
const script = bundleScript(join(import.meta.dirname, 'helpers', 'sql-crash-writer.ts'));

/** Starts a writer for `run`; it loads and then waits for `go` (so it can be started ahead of time). */
function spawnWriter(engine: Engine, run: number): ChildLines {
  return startChild(script, [engine.name, JSON.stringify(engine.options), String(run)]);
}

/** Lets the writer go, kills it `delayMs` after its first acknowledged save; resolves to its acknowledged saves. */
async function goAndKill(writer: ChildLines, delayMs: number): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  writer.onLine((line) => {
    const [tag, user, access] = line.split(' ');
    if (tag === 'ack' && user && access) acked.set(user, access);
  });
  try {
    await writer.next((l) => l === 'loaded');
    writer.child.stdin.write('go\n');
    await writer.next((l) => l === 'ready');
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  } finally {
    writer.child.kill('SIGKILL');
  }
  const { signal } = await writer.exited;
  if (signal !== 'SIGKILL') throw new Error(`writer ended without being killed: ${writer.stderr()}`);
  return acked;
}

for (const engine of engines) {
  describe.skipIf(!engine.available)(`${engine.name}: SIGKILL during saves`, () => {
    const checker = engine.open();
    afterAll(async () => {
      await checker.close();
      await engine.drop();
    });

    it(`a writer killed at random moments ${KILLS} times never leaves a partial row, a duplicate user or a lost acknowledged save`, async () => {
      await checker.getTokens(); // creates the table before the first writer starts
      const latest = new Map<string, string>(); // user -> last acknowledged access token, across runs
      let kills = 0;
      let checks = 0;
      let reinserted = 0;
      let acknowledged = 0;
      const started = Date.now();
      let next = spawnWriter(engine, 0);
      for (let run = 0; run < KILLS; run++) {
        const writer = next;
        // The next writer starts node and loads its modules while this one runs.
        if (run + 1 < KILLS) next = spawnWriter(engine, run + 1);
        const acked = await goAndKill(writer, Math.floor(Math.random() * 40));
        kills++;
        acknowledged += acked.size;
        for (const [user, access] of acked) latest.set(user, access);
        const tokens: StoredToken[] = await checker.getTokens(); // parses every row, or throws
        expect(new Set(tokens.map((t) => t.userName)).size, 'one row per user').toBe(tokens.length);
        expect(tokens.length).toBeLessThanOrEqual(USERS);
        for (const token of tokens) {
          // Whole rows only: every column as the writer wrote it in one save of that user.
          expect(token.userName).toMatch(/^user\d+$/);
          const [writtenIn, i] = crashStamp(token.accessToken!);
          expect(token).toEqual({ id: token.id, ...crashToken(token.userName!, writtenIn, i) });
          checks++;
        }
        for (const [user, access] of latest) {
          const stored = tokens.find((t) => t.userName === user);
          expect(stored, `acknowledged save of ${user} lost`).toBeDefined();
          const [storedRun, storedI] = crashStamp(stored!.accessToken!);
          const [ackRun, ackI] = crashStamp(access);
          expect(
            storedRun > ackRun || (storedRun === ackRun && storedI >= ackI),
            `${user}: ${stored!.accessToken} is older than acknowledged ${access}`,
          ).toBe(true);
          checks++;
        }
        // Two users go, so that the next writers insert them again (under kills too).
        for (const token of tokens.sort(() => Math.random() - 0.5).slice(0, 2)) {
          await checker.deleteToken(token.id);
          latest.delete(token.userName!);
          reinserted++;
        }
      }
      console.log(
        `${engine.name} crash test: ${kills} SIGKILLs, ${checks} checks (rows whole + acknowledged saves kept), ${reinserted} users deleted and written again, ${acknowledged} users with acknowledged saves at kill time, ${Date.now() - started} ms`,
      );
      expect(kills).toBe(KILLS);
    }, 120_000);
  });
}
