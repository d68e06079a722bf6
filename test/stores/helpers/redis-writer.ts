// A child process for the cross-process RedisStore tests (run with tsx):
//   save <url> <prefix> <worker> <count>  saves <count> users of its own and 10 shared users
//   lock <url> <prefix> <worker> <count>  prints "start end" (ms) of each critical section
//   hold <url> <prefix> <worker> 1        takes the lock (ttl 1.5 s), prints "holding", waits to be killed
// It builds its tokens itself: importing the conformance kit would load vitest.
import { RedisStore } from '../../../src/stores/redis.js';
import type { OAuthToken } from '../../../src/token.js';

const [url, prefix, mode, workerId, countText] = process.argv.slice(2);
const count = Number(countText);
const store = new RedisStore({ url: url!, prefix: prefix! });

const token = (user: string, accessToken = `1000.access.${user}`): OAuthToken => ({
  userName: user,
  clientId: '1000.CLIENT',
  clientSecret: 'client-secret-0123456789',
  refreshToken: `1000.refresh.${user}`,
  accessToken,
  expiryTime: 1_767_225_600_000,
});

if (mode === 'save') {
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    jobs.push(store.saveToken(token(`w${workerId}-u${i}`)));
    if (i % 4 === 0) jobs.push(store.saveToken(token(`shared${i % 10}`, `1000.access.w${workerId}.${i}`)));
  }
  for (let i = 0; i < 10; i++) jobs.push(store.saveToken(token(`shared${i}`)));
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
