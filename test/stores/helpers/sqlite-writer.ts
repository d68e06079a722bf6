// A child process for the cross-process SQLite tests: `save` writes own and shared users,
// `lock` records critical sections, `hold` takes the lock (ttl 1.5 s) and waits to be killed.
import { SQLiteStore } from '../../../src/stores/sqlite.js';
import { sampleToken } from '../../../src/testing/sample.js';

const [path, mode, workerId, countText] = process.argv.slice(2);
const count = Number(countText);
const store = new SQLiteStore({ path: path! });

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
  await store.withLock('fleet', 1_500, async () => {
    process.stdout.write('holding\n');
    await new Promise((r) => setTimeout(r, 60_000));
  });
}
await store.close();
