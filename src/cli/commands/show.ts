/** `ztoken show ID`: one token in full, every secret redacted (table or JSON). */
import type { Command } from 'commander';
import {
  addDebugOption,
  addExamples,
  addStoreOption,
  type CliRuntime,
  cliHosts,
  openCliStore,
  type StoreFlags,
  storeUrlOf,
} from '../context.js';
import { tokenDetails, tokenJson } from '../token-view.js';
import { findOrFail, parseIdArg } from './shared.js';

export function registerShow(program: Command, cli: CliRuntime): void {
  const command = program
    .command('show')
    .argument('<id>', 'token id (see ztoken list)')
    .description('show one stored token; secrets are redacted (a short prefix and the length)')
    .option('--json', 'print JSON (secrets redacted)');
  addStoreOption(command);
  addDebugOption(command);
  addExamples(command, ['ztoken show 3', 'ztoken show 3 --json']);
  command.action(async (idArg: string, opts: StoreFlags & { json?: boolean }) => {
    const id = parseIdArg(idArg);
    const url = storeUrlOf(opts);
    const store = await openCliStore(cli, url, { access: 'read' });
    const token = await findOrFail(store, id, url);
    const now = Date.now();
    const hosts = cliHosts(cli);
    if (opts.json) cli.out.json(tokenJson(token, now, hosts));
    else cli.out.line(cli.out.keyValueTable(tokenDetails(token, now, hosts)));
  });
}
