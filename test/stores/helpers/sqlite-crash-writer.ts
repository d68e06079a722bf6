// Saves continuously to a SQLite file and prints "ack <user> <accessToken>" after each save
// resolves; the crash test kills it with SIGKILL at random moments.
import { SQLiteStore } from '../../../src/stores/sqlite.js';
import { sampleToken } from '../../../src/testing/sample.js';

const [path, runText] = process.argv.slice(2);
const run = Number(runText);
const store = new SQLiteStore({ path: path! });
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const user = `user${i % 20}`;
  const accessToken = `1000.access.r${run}.i${i}`;
  await store.saveToken(sampleToken(user, { accessToken, expiryTime: 1_767_225_600_000 + i }));
  process.stdout.write(`ack ${user} ${accessToken}\n`);
}
