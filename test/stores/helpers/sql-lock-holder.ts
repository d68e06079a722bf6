// A child process for the lock-expiry tests, bundled (test/helpers/bundle.ts) and run with plain
// `node` so that SIGSTOP freezes the process that holds the lock. It prints "trying <ms>" just
// before it asks for the lock (the lock's ttl can only start later), takes it, prints "holding <ms>", keeps it for holdMs (frozen meanwhile by the test), then prints how withLock
// ended. Arguments: engine (mysql|postgres) storeOptionsJson key ttlMs holdMs
import { TokenStoreError } from '../../../src/errors.js';
import { DBStore } from '../../../src/stores/mysql.js';
import { PostgresStore } from '../../../src/stores/postgres.js';

const [engine, optionsJson, key, ttlText, holdText] = process.argv.slice(2);
const options = JSON.parse(optionsJson!);
const store = engine === 'mysql' ? new DBStore(options) : new PostgresStore(options);

process.stdout.write(`trying ${Date.now()}\n`);
const outcome = await store
  .withLock(key!, Number(ttlText), async () => {
    process.stdout.write(`holding ${Date.now()}\n`);
    await new Promise((resolve) => setTimeout(resolve, Number(holdText)));
    return 'returned';
  })
  .catch((error: unknown) => (error instanceof TokenStoreError ? `failed ${error.reason}` : `failed ${String(error)}`));
process.stdout.write(`${outcome} ${Date.now()}\n`);
await store.close();
