// Saves continuously to a MySQL or PostgreSQL table (20 users, two saves in flight, each user's
// access token newer every time) and prints "ack <user> <accessToken>" after each save resolves,
// "ready" after the first; the crash test kills it with SIGKILL at random moments.
// Bundled (test/helpers/bundle.ts) and run with plain `node`. It loads, prints "loaded" and waits
// for a line on stdin before it starts, so the test can start the next writer ahead of time.
// Arguments: engine (mysql|postgres) storeOptionsJson run
import { DBStore } from '../../../src/stores/mysql.js';
import { PostgresStore } from '../../../src/stores/postgres.js';
import { crashToken } from './sql-crash-token.js';

const [engine, optionsJson, runText] = process.argv.slice(2);
const run = Number(runText);
const USERS = 20;
process.stdout.write('loaded\n');
await new Promise((resolve) => process.stdin.once('data', resolve));

const options = JSON.parse(optionsJson!);
const store = engine === 'mysql' ? new DBStore(options) : new PostgresStore(options);
let ready = false;

/** One lane saves the users of its parity, so each user's saves are acknowledged in order. */
async function lane(parity: number): Promise<never> {
  for (let i = parity; ; i += 2) {
    const token = crashToken(`user${i % USERS}`, run, i);
    await store.saveToken(token);
    process.stdout.write(`ack ${token.userName} ${token.accessToken}\n`);
    if (!ready) {
      ready = true;
      process.stdout.write('ready\n');
    }
  }
}

await Promise.all([lane(0), lane(1)]);
