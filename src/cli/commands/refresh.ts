/** `ztoken refresh ID`: forces a refresh through TokenManager (under the store's lock) and saves it. */
import type { Command } from 'commander';
import { describeStoreUrl } from '../../stores/url.js';
import { redact } from '../../token.js';
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
import { CliError } from '../errors.js';
import { expiryStatus } from '../token-view.js';
import { describeToken, findOrFail, parseIdArg } from './shared.js';

export function registerRefresh(program: Command, cli: CliRuntime): void {
  const command = program
    .command('refresh')
    .argument('<id>', 'token id (see ztoken list)')
    .description("get a new access token now with the token's refresh token, and save it");
  addStoreOption(command);
  addClientOptions(command);
  addDebugOption(command);
  command.addHelpText('after', '\nThe client id and secret come from the flags or env; when both are silent, from the stored token.');
  addExamples(command, ['ztoken refresh 3', 'ZOHO_DC=EU ztoken refresh 3', 'ztoken refresh 3 --accounts-url http://127.0.0.1:8089']);
  command.action(async (idArg: string, opts: StoreFlags & ClientFlags) => {
    const id = parseIdArg(idArg);
    const url = storeUrlOf(opts);
    const store = await openCliStore(cli, url, { access: 'use' });
    const token = await findOrFail(store, id, url);
    const client = resolveClient(cli, opts, token);
    // An infinite skew makes every token "due": the manager's own refresh path (under the
    // store's lock), forced. A token with time left is refreshed in the background: settle()
    // waits for it, and the store then holds the outcome.
    // The command reports a failed refresh itself (below): the manager's warning would tell it twice.
    const manager = createManager(cli, store, client, {
      refreshSkewMs: Number.POSITIVE_INFINITY,
      resolveUserName: false,
      logger: cli.logger({ warnings: 'debug' }),
    });
    // A throttled or unreachable Zoho makes the manager keep serving a still-valid token; here
    // that is a failed refresh, and the reason comes with its 'error' event.
    let absorbed: Error | undefined;
    manager.on('error', (error) => {
      absorbed ??= error;
    });
    await manager.getToken({ id });
    await manager.settle();
    const refreshed = await findOrFail(store, id, url);
    if (token.accessToken && refreshed.accessToken === token.accessToken) {
      throw new CliError(`Zoho gave ${describeToken(token)} no new access token: ${absorbed?.message ?? 'the refresh did not happen'}`, {
        cause: absorbed,
        hint: `The stored access token was kept (${expiryStatus(token, Date.now()).text}).`,
      });
    }
    const { out } = cli;
    const status = expiryStatus(refreshed, Date.now());
    out.line(out.ok(`Refreshed ${describeToken(refreshed)} in ${describeStoreUrl(url)}`));
    out.line(`  access token ${redact(refreshed.accessToken)}, ${status.text}`);
  });
}
