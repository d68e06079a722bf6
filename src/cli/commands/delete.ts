/** `ztoken delete ID`: removes a token from the store only (Zoho still honours it: see revoke). */
import type { Command } from 'commander';
import { describeStoreUrl } from '../../stores/url.js';
import { addDebugOption, addExamples, addStoreOption, type CliRuntime, openCliStore, type StoreFlags, storeUrlOf } from '../context.js';
import { describeToken, findOrFail, parseIdArg } from './shared.js';

export function registerDelete(program: Command, cli: CliRuntime): void {
  const command = program
    .command('delete')
    .alias('rm')
    .argument('<id>', 'token id (see ztoken list)')
    .description('delete a token from the store (it stays valid at Zoho; use revoke to end it there too)');
  addStoreOption(command);
  addDebugOption(command);
  addExamples(command, ['ztoken delete 3', 'ztoken delete 3 --store file:./sdk_tokens.txt']);
  command.action(async (idArg: string, opts: StoreFlags) => {
    const id = parseIdArg(idArg);
    const url = storeUrlOf(opts);
    const store = await openCliStore(cli, url, { access: 'read' });
    const token = await findOrFail(store, id, url);
    await store.deleteToken(id);
    const { out } = cli;
    out.line(out.ok(`Deleted ${describeToken(token)} from ${describeStoreUrl(url)}`));
    if (token.refreshToken) out.line(out.c.dim('Its refresh token still works at Zoho; ztoken revoke ID revokes it there as well.'));
  });
}
