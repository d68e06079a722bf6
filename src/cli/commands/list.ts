/** `ztoken list`: every stored token, one row each (secrets never shown), or JSON. */
import type { Command } from 'commander';
import { describeStoreUrl } from '../../stores/url.js';
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
import { expiryPainter, TOKEN_TABLE_HEAD, tokenJson, tokenRow } from '../token-view.js';

export function registerList(program: Command, cli: CliRuntime): void {
  const command = program
    .command('list')
    .alias('ls')
    .description('list the stored tokens: id, user, client, data center, api domain, expiry (secrets never shown)')
    .option('--json', 'print a JSON array (secrets redacted)');
  addStoreOption(command);
  addDebugOption(command);
  addExamples(command, ['ztoken list', 'ztoken list --json', 'ztoken list --store postgres://app@db:5432/crm?table=oauthtoken']);
  command.action(async (opts: StoreFlags & { json?: boolean }) => {
    const url = storeUrlOf(opts);
    const store = await openCliStore(cli, url, { access: 'read' });
    const tokens = await store.getTokens();
    const now = Date.now();
    const hosts = cliHosts(cli);
    const { out } = cli;
    if (opts.json) {
      out.json(tokens.map((token) => tokenJson(token, now, hosts)));
      return;
    }
    if (tokens.length === 0) {
      out.line(`No tokens in ${describeStoreUrl(url)}.`);
      return;
    }
    const paint = expiryPainter(out.c);
    out.line(
      out.table(
        TOKEN_TABLE_HEAD,
        tokens.map((token) => tokenRow(token, now, paint, hosts)),
      ),
    );
    out.line(out.c.dim(`${tokens.length} token${tokens.length === 1 ? '' : 's'} in ${describeStoreUrl(url)}`));
  });
}
