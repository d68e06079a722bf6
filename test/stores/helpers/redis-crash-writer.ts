// The child of the SIGKILL crash test: saves (and now and then deletes) its users without
// pause until it is killed, printing "ack <user> <n> <id>" after each acknowledged operation.
// Each user's operations run one after another, so at most one per user is in flight when the
// kill comes. What the n-th operation writes is `crashOperation` below, shared with the test.
// Args: <url> <prefix> <users> <base> <connection name>. Bundled by the test and run with plain node (fast start);
// it connects, prints "ready" and waits for a line on stdin before writing, so the test can
// start the next child while it checks the last one.
import { writeSync } from 'node:fs';
import { RedisStore } from '../../../src/stores/redis.js';
import { crashOperation } from './redis-crash-ops.js';

const [url, prefix, usersText, baseText, connectionName] = process.argv.slice(2);
const users = Number(usersText);
const base = Number(baseText);
// The name lets the test see when Redis has dropped (and so finished with) this connection.
const store = new RedisStore({ url: url!, prefix: prefix!, redisOptions: { connectionName } });

/**
 * A blocking write on fd 1 (process.stdout is never touched, so the pipe stays blocking): the
 * line is in the pipe before the next operation starts. process.stdout would queue lines in
 * memory when the pipe is full, and a SIGKILL would drop them.
 */
function acknowledge(line: string): void {
  writeSync(1, line);
}

async function runUser(user: number): Promise<never> {
  let id: string | undefined;
  for (let n = 0; ; n++) {
    const op = crashOperation(user, base, n);
    if (op.kind === 'delete') {
      if (id !== undefined) await store.deleteToken(id);
    } else {
      id = (await store.saveToken(op.token)).id;
    }
    acknowledge(`ack ${user} ${n} ${id ?? '-'}\n`);
  }
}

await store.findTokenById('0');
acknowledge('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
await Promise.all(Array.from({ length: users }, (_, user) => runUser(user)));
