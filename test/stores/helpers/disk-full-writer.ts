// Opens a store, says "ready", waits for a line on stdin (meanwhile the test lowers this
// process's file-size limit with prlimit, so writes fail as on a full disk), tries one save and
// prints what happened as JSON.
import { createInterface } from 'node:readline';
import { FileStore } from '../../../src/stores/file.js';
import { SQLiteStore } from '../../../src/stores/sqlite.js';
import { sampleToken } from '../../../src/testing/sample.js';

const [kind, path] = process.argv.slice(2);
const store = kind === 'file' ? new FileStore({ path: path! }) : new SQLiteStore({ path: path! });
await store.getTokens();
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
const big = 'z'.repeat(4000);
try {
  await store.saveToken(
    sampleToken('user1', { accessToken: `1000.big.${big}`, refreshToken: `1000.big.${big}`, clientSecret: big, redirectUrl: big }),
  );
  process.stdout.write(JSON.stringify({ ok: true }));
} catch (error) {
  const e = error as { name: string; reason?: string; message: string };
  process.stdout.write(JSON.stringify({ ok: false, name: e.name, reason: e.reason, message: e.message }));
}
await store.close().catch(() => undefined);
