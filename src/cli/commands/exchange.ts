/** `ztoken exchange --grant-token CODE`: the self-client flow (a code from the API console). */
import type { Command } from 'commander';
import { describeStoreUrl } from '../../stores/url.js';
import { redact, type StoredToken } from '../../token.js';
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
import type { Output } from '../output.js';
import { parseClientCredentialsGrant } from '../../zoho/client-credentials-grant.js';
import { expiryStatus, tokenKind } from '../token-view.js';
import { describeToken } from './shared.js';

interface ExchangeFlags extends StoreFlags, ClientFlags {
  grantToken: string;
  user?: string;
  redirectUri?: string;
}

export function registerExchange(program: Command, cli: CliRuntime): void {
  const command = program
    .command('exchange')
    .description('exchange a grant token (self-client code from https://api-console.zoho.com) and save the tokens')
    .requiredOption('--grant-token <code>', 'the grant token (single use, valid a few minutes)')
    .option('--user <name>', "user name to save the token under (default: Zoho's email:zgid, as the official SDKs)")
    .option('--redirect-uri <url>', 'the redirect URI the code was issued for, if any');
  addStoreOption(command);
  addClientOptions(command);
  addDebugOption(command);
  addExamples(command, [
    'ZOHO_CLIENT_ID=1000.XXXX ZOHO_CLIENT_SECRET=... ztoken exchange --grant-token 1000.abcd...',
    'ztoken exchange --grant-token 1000.abcd... --user me@example.com --dc EU',
  ]);
  command.action(async (opts: ExchangeFlags) => {
    cli.out.addSecret(opts.grantToken);
    const client = resolveClient(cli, opts);
    const url = storeUrlOf(opts);
    const store = await openCliStore(cli, url, { access: 'write' });
    const manager = createManager(cli, store, client, { redirectUrl: opts.redirectUri });
    // authorize() returns the stored token for a grant exchanged before, and saves (and says so
    // with a 'save' event) only when it exchanged the code now.
    let exchanged = false;
    manager.on('save', () => {
      exchanged = true;
    });
    const saved = await manager.authorize({ grantToken: opts.grantToken, userName: opts.user });
    if (!exchanged) {
      cli.out.line(`This grant token was exchanged before: it is ${describeToken(saved)} in ${describeStoreUrl(url)}; nothing to do.`);
      return;
    }
    printSaved(cli.out, saved, url);
  });
}

export function printSaved(out: Output, saved: StoredToken, storeUrl: string, verb = 'Saved'): void {
  out.line(out.ok(`${verb} ${describeToken(saved)} in ${describeStoreUrl(storeUrl)}`));
  out.line(`  kind          ${tokenKind(saved)}`);
  out.line(`  access token  ${redact(saved.accessToken)}, ${expiryStatus(saved, Date.now()).text}`);
  const selfClient = parseClientCredentialsGrant(saved.grantToken);
  if (selfClient && !saved.refreshToken) {
    out.line(`  refresh token none: a new access token comes from the same grant (${selfClient.soid}) on expiry`);
  } else {
    out.line(
      `  refresh token ${saved.refreshToken ? redact(saved.refreshToken) : out.c.yellow('none (ask for access_type=offline to get one)')}`,
    );
  }
  out.line(`  api domain    ${saved.apiDomain ?? '-'}`);
}
