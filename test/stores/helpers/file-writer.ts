// A child process for the cross-process FileStore tests (bundled by file-children.ts and run
// with plain node, so a SIGKILL hits the process that holds the file and its locks). Modes:
//   save <path> <worker> <count>  own users w<worker>-u<i> and ten shared users, all at once
//   lock <path> <worker> <count>  critical sections under withLock('fleet'), printed "start end"
//   hold-key <path> <ttlMs>       takes withLock('fleet') and waits to be killed
//   hold-write <path>             takes the store's write lock and waits to be killed
//   update <path> <user> <access> saves one token
//   crash <path> <start>          prints "ready", waits for "go" on stdin, then saves forever,
//                                 printing the number of each save once it resolved
import { FileStore, writeLockPath } from '../../../src/stores/file.js';
import { FileLock } from '../../../src/stores/file/file-lock.js';
import { childToken, crashSave } from './file-tokens.js';

const [mode, path, a, b] = process.argv.slice(2) as [string, string, string | undefined, string | undefined];
const store = new FileStore({ path });
const forever = () => new Promise((resolve) => setTimeout(resolve, 600_000));

if (mode === 'save') {
  const count = Number(b);
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    jobs.push(store.saveToken(childToken(`w${a}-u${i}`)));
    if (i % 4 === 0) jobs.push(store.saveToken(childToken(`shared${i % 10}`, { accessToken: `1000.access.w${a}.${i}` })));
  }
  await Promise.all(jobs);
  for (let i = 0; i < 10; i++) await store.saveToken(childToken(`shared${i}`));
} else if (mode === 'lock') {
  const lines: string[] = [];
  for (let i = 0; i < Number(b); i++) {
    await store.withLock('fleet', 5_000, async () => {
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 3));
      lines.push(`${start} ${Date.now()}`);
    });
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} else if (mode === 'hold-key') {
  await store.withLock('fleet', Number(a), async () => {
    process.stdout.write('holding\n');
    await forever();
  });
} else if (mode === 'hold-write') {
  if (!new FileLock(writeLockPath(store.path)).tryAcquire('hold-write', 60_000)) throw new Error('write lock busy');
  process.stdout.write('holding\n');
  await forever();
} else if (mode === 'update') {
  await store.saveToken(childToken(a!, { accessToken: b! }));
} else if (mode === 'crash') {
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  for (let i = Number(a); ; i++) {
    await store.saveToken(crashSave(i));
    process.stdout.write(`${i}\n`);
  }
}
await store.close();
