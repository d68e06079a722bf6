// A child process for the cross-process MySQL/PostgreSQL tests (like sqlite-writer.ts):
// `save` writes users of its own and shared users, `lock` records critical sections,
// `hold` takes the lock (ttl 10 s) and waits to be killed.
// Arguments: engine (mysql|postgres) database table mode workerId count
import { DBStore } from '../../../src/stores/mysql.js';
import { PostgresStore } from '../../../src/stores/postgres.js';
import type { TokenStore } from '../../../src/store.js';
import { sampleToken } from '../../../src/testing/sample.js';
import { mysqlTarget, postgresTarget } from './sql-admin.js';

const [engine, database, table, mode, workerId, countText] = process.argv.slice(2);
const count = Number(countText);
const store: TokenStore & { withLock: NonNullable<TokenStore['withLock']> } =
  engine === 'mysql'
    ? new DBStore({ ...mysqlTarget(), database: database!, table: table! })
    : new PostgresStore({ ...postgresTarget(), database: database!, table: table! });

if (mode === 'save') {
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    jobs.push(store.saveToken(sampleToken(`w${workerId}-u${i}`)));
    if (i % 4 === 0) jobs.push(store.saveToken(sampleToken(`shared${i % 10}`, { accessToken: `1000.access.w${workerId}.${i}` })));
  }
  for (let i = 0; i < 10; i++) jobs.push(store.saveToken(sampleToken(`shared${i}`)));
  await Promise.all(jobs);
} else if (mode === 'lock') {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    await store.withLock('fleet', 5_000, async () => {
      const start = Date.now();
      await new Promise((r) => setTimeout(r, 3));
      lines.push(`${start} ${Date.now()}`);
    });
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} else if (mode === 'hold') {
  await store.withLock('fleet', 10_000, async () => {
    process.stdout.write('holding\n');
    await new Promise((r) => setTimeout(r, 60_000));
  });
}
await store.close();
