/**
 * `ztoken repair-ids --store file:PATH [--dry-run]`: gives every row of a token file that repeats
 * an earlier row's id a new id (the largest numeric id + 1), keeping every token, in one atomic
 * rewrite; prints old -> new per row. The repair for the files typescript-sdk 6.0/7.0 write (every
 * token from the 11th on gets id 10), which FileStore refuses, naming this command.
 */
import type { Command } from 'commander';
import { EncryptedStore } from '../../crypto/encrypted-store.js';
import { TokenStoreError } from '../../errors.js';
import { FileStore } from '../../stores/file.js';
import { describeStoreUrl, openStore } from '../../stores/url.js';
import { addDebugOption, addExamples, addStoreOption, type CliRuntime, type StoreFlags, storeUrlOf } from '../context.js';
import { CliError, UsageError } from '../errors.js';

interface RepairFlags extends StoreFlags {
  dryRun?: boolean;
}

/** The FileStore a `file:` URL opens (the ids of an encrypted one are plaintext: its inner store). */
async function openTokenFile(cli: CliRuntime, url: string): Promise<FileStore> {
  if (!url.trim().startsWith('file:')) {
    throw new UsageError(`repair-ids works on a token file: ${describeStoreUrl(url)} is not a file: store`, {
      hint: 'Name the file, e.g. --store file:./sdk_tokens.txt',
    });
  }
  cli.storeUrls.push(url);
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(url, { env: cli.env, create: false });
  } catch (error) {
    if (error instanceof TokenStoreError) throw new CliError(`Cannot use the token file: ${error.message}`, { cause: error });
    throw error;
  }
  cli.onCleanup(() => store.close());
  const file = store instanceof EncryptedStore ? store.inner : store;
  if (!(file instanceof FileStore)) throw new CliError(`${describeStoreUrl(url)} did not open as a token file`);
  return file;
}

export function registerRepairIds(program: Command, cli: CliRuntime): void {
  const command = program
    .command('repair-ids')
    .description('give repeated ids in a token file new ones (the typescript-sdk 6.0/7.0 id 10 bug), keeping every token')
    .option('--dry-run', 'print the ids that would change, write nothing');
  addStoreOption(command);
  addDebugOption(command);
  command.addHelpText(
    'after',
    '\nThe first row with an id keeps it; each later row with the same id gets the largest numeric id + 1.\n' +
      'The file is rewritten atomically under its write lock, in its own layout. Stop (or restart) the\n' +
      'processes using the file: one that still holds a token with the old id finds the first row with it.\n' +
      'typescript-sdk 6.0/7.0 make the repeated id again for their next new token: use zohoSdkStore(new FileStore())\n' +
      'or typescript-sdk 8.0 to stop that.',
  );
  addExamples(command, ['ztoken repair-ids --store file:./sdk_tokens.txt --dry-run', 'ztoken repair-ids --store file:./sdk_tokens.txt']);
  command.action(async (opts: RepairFlags) => {
    const url = storeUrlOf(opts);
    const shown = describeStoreUrl(url);
    const file = await openTokenFile(cli, url);
    const repairs = await file.repairDuplicateIds({ dryRun: opts.dryRun === true });
    const { out } = cli;
    if (repairs.length === 0) {
      out.line(out.ok(`No repeated ids in ${shown}: nothing to repair.`));
      return;
    }
    for (const r of repairs) {
      out.line(`  line ${r.line}: id ${r.oldId} -> ${r.newId}${r.userName !== undefined ? ` (${r.userName})` : ''}`);
    }
    const count = `${repairs.length} token${repairs.length === 1 ? '' : 's'}`;
    if (opts.dryRun) {
      out.line(`Dry run: would give ${count} a new id in ${shown}; nothing was written.`);
      return;
    }
    const total = (await file.getTokens()).length;
    out.line(out.ok(`Gave ${count} a new id in ${shown}; all ${total} tokens kept.`));
  });
}
