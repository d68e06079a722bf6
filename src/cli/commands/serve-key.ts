/** `ztoken serve-key add|list|remove`: the broker's client keys (only their hashes are stored, mode 0600). */
import type { Command } from 'commander';
import { ZTokenError } from '../../errors.js';
import { addKey, type KeyGrants, readKeysFile, removeKey } from '../../broker/keys-file.js';
import { addDebugOption, addExamples, type CliRuntime } from '../context.js';
import { CliError, UsageError } from '../errors.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Keys-file problems are the user's to fix: told as plain failures, naming the file. */
function keysFailure(error: unknown): Error {
  return error instanceof ZTokenError && error.reason === 'INVALID_KEYS_FILE'
    ? new CliError(error.message, { cause: error })
    : (error as Error);
}

export function registerServeKey(program: Command, cli: CliRuntime): void {
  const group = program
    .command('serve-key')
    .description('manage the client keys of `ztoken serve` (a keys file holding only their hashes)');

  const add = group
    .command('add')
    .description('create a key, print it once on stdout, and store only its hash in the keys file')
    .requiredOption('--keys <file>', 'the keys file (created mode 0600 if missing)')
    .requiredOption('--name <name>', 'a name for the key, shown in audit lines and metrics (e.g. billing)')
    .option('--allow-user <email>', 'may read the token of this Zoho user (repeatable)', collect)
    .option('--allow-id <id>', 'may read the token with this id (repeatable)', collect)
    .option('--allow-all', 'may read every token of the store');
  addDebugOption(add);
  addExamples(add, [
    'ztoken serve-key add --keys ./broker-keys.json --name billing --allow-user alice@zylker.com',
    'ztoken serve-key add --keys ./broker-keys.json --name ops --allow-id 7 --allow-id 9',
    'KEY=$(ztoken serve-key add --keys ./broker-keys.json --name ci --allow-all)',
  ]);
  add.action((opts: { keys: string; name: string; allowUser?: string[]; allowId?: string[]; allowAll?: boolean }) => {
    const grants: KeyGrants = { all: opts.allowAll === true, ids: opts.allowId ?? [], users: opts.allowUser ?? [] };
    if (!grants.all && grants.ids.length === 0 && grants.users.length === 0) {
      throw new UsageError('A key must be granted something: --allow-user EMAIL, --allow-id ID (both repeatable) or --allow-all');
    }
    let key: string;
    try {
      key = addKey(opts.keys, opts.name, grants);
    } catch (error) {
      throw keysFailure(error);
    }
    cli.out.line(key);
    const what = grants.all ? 'every token' : [...grants.users.map((u) => `user ${u}`), ...grants.ids.map((i) => `id ${i}`)].join(', ');
    cli.out.note(`Key ${opts.name} (may read ${what}) added to ${opts.keys}. It is shown this once; the file keeps only its hash.`);
    cli.out.note('Send it as Authorization: Bearer <key>. A running broker picks it up on SIGHUP.');
  });

  const list = group.command('list').description('list the keys of a keys file (names and grants; keys are not stored)');
  list.requiredOption('--keys <file>', 'the keys file');
  list.action((opts: { keys: string }) => {
    let keys: ReturnType<typeof readKeysFile>;
    try {
      keys = readKeysFile(opts.keys);
    } catch (error) {
      throw keysFailure(error);
    }
    if (keys.length === 0) {
      cli.out.line(`No keys in ${opts.keys}.`);
      return;
    }
    const grants = (g: KeyGrants) =>
      g.all ? 'all tokens' : [...g.users.map((u) => `user ${u}`), ...g.ids.map((i) => `id ${i}`)].join(', ');
    cli.out.line(
      cli.out.table(
        ['NAME', 'MAY READ', 'CREATED'],
        keys.map((k) => [k.name, grants(k.grants), k.created]),
      ),
    );
  });

  const remove = group
    .command('remove')
    .argument('<name>', 'the key name')
    .description('remove a key (a running broker drops it on SIGHUP)');
  remove.requiredOption('--keys <file>', 'the keys file');
  remove.action((name: string, opts: { keys: string }) => {
    let removed: boolean;
    try {
      removed = removeKey(opts.keys, name);
    } catch (error) {
      throw keysFailure(error);
    }
    if (!removed) throw new CliError(`${opts.keys} has no key named ${name}`);
    cli.out.line(cli.out.ok(`Removed key ${name} from ${opts.keys}`));
  });
}
