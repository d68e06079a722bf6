/** `ztoken revoke ID`: revokes the refresh token at Zoho, then deletes the token locally. */
import type { Command } from 'commander';
import { describeStoreUrl } from '../../stores/url.js';
import {
  addClientOptions,
  addDebugOption,
  addExamples,
  addStoreOption,
  type ClientFlags,
  type CliRuntime,
  createManager,
  openCliStore,
  resolveClient,
  type StoreFlags,
  storeUrlOf,
} from '../context.js';
import { describeToken, findOrFail, parseIdArg } from './shared.js';

export function registerRevoke(program: Command, cli: CliRuntime): void {
  const command = program
    .command('revoke')
    .argument('<id>', 'token id (see ztoken list)')
    .description('revoke a token at Zoho (its refresh token and access tokens), then delete it locally');
  addStoreOption(command);
  addClientOptions(command);
  addDebugOption(command);
  command.addHelpText('after', '\nIf Zoho cannot be reached the local token is kept, so you can try again.');
  addExamples(command, ['ztoken revoke 3', 'ztoken revoke 3 --dc EU']);
  command.action(async (idArg: string, opts: StoreFlags & ClientFlags) => {
    const id = parseIdArg(idArg);
    const url = storeUrlOf(opts);
    const store = await openCliStore(cli, url, { access: 'use' });
    const token = await findOrFail(store, id, url);
    const client = resolveClient(cli, opts, token);
    const manager = createManager(cli, store, client, { resolveUserName: false });
    const where = manager.locate(token);
    await manager.revoke({ id });
    const { out } = cli;
    if (token.refreshToken) out.line(out.ok(`Revoked ${describeToken(token)} at Zoho ${where.dataCenter} (${where.accountsUrl})`));
    else out.line(out.c.dim(`${describeToken(token)} had no refresh token to revoke at Zoho`));
    out.line(out.ok(`Deleted ${describeToken(token)} from ${describeStoreUrl(url)}`));
  });
}
