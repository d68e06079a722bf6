// A child process for the cross-process tests of every store, which it opens by URL (openStore):
//   <storeUrl> save <worker> <count>       saves <count> users of its own, and 10 shared users
//                                          (some several times) that every worker saves
//   <storeUrl> lock <worker> <count>       prints "start end" (ms) of each critical section
//   <storeUrl> hold <worker> 1 <ttlMs>     takes the lock, prints "holding", waits to be killed
// Run with `node --import tsx` so that SIGKILL reaches this process, not a wrapper.
import { openStore } from '../../../src/stores/url.js';
import { sampleToken } from '../../../src/testing/sample.js';

const [url, mode, workerId, countText, holdTtlText] = process.argv.slice(2);
const count = Number(countText);
const store = await openStore(url!);
if (!store.withLock) throw new Error(`${url} offers no withLock`);
const withLock = store.withLock.bind(store);

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
    await withLock('fleet', 5_000, async () => {
      const start = Date.now();
      await new Promise((r) => setTimeout(r, 3));
      lines.push(`${start} ${Date.now()}`);
    });
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} else if (mode === 'hold') {
  await withLock('fleet', Number(holdTtlText ?? 1_500), async () => {
    process.stdout.write('holding\n');
    await new Promise((r) => setTimeout(r, 60_000));
  });
}
await store.close();
