/**
 * `ztoken login --device`: Zoho's device flow, for machines with no browser. Prints the
 * verification URL and user code (and a QR code of the URL when stdout is a terminal), polls
 * until the user approves (manager.authorizeWithDevice), and saves the token with its DC.
 */
import qrcode from 'qrcode-terminal';
import type { TokenStore } from '../../store.js';
import type { DevicePrompt } from '../../manager/device-flow.js';
import { type ClientSettings, type CliRuntime, createManager } from '../context.js';
import { CliError } from '../errors.js';
import { formatDuration } from '../token-view.js';
import { printSaved } from './exchange.js';

/** A QR code of `url` as text (small blocks), for phones to scan. */
function qrText(url: string): Promise<string> {
  return new Promise((resolve) => qrcode.generate(url, { small: true }, resolve));
}

export async function loginWithDevice(
  cli: CliRuntime,
  store: TokenStore,
  client: ClientSettings,
  opts: { scope: string; user?: string; storeUrl: string },
): Promise<void> {
  const { out } = cli;
  const manager = createManager(cli, store, client);
  const controller = new AbortController();
  cli.onCleanup(() => controller.abort());
  const onPrompt = async (prompt: DevicePrompt): Promise<void> => {
    const target = prompt.verificationUriComplete ?? prompt.verificationUrl;
    out.line('On any device, open this URL and enter the code to sign in to Zoho:');
    out.line(`  URL:  ${out.c.cyan(prompt.verificationUrl)}`);
    out.line(`  Code: ${out.c.bold(prompt.userCode)}`);
    if (out.stdout.isTTY === true) out.line(await qrText(target));
    out.line(out.c.dim(`Waiting for approval (the code expires in ${formatDuration(prompt.expiresInMs)}; Ctrl-C to give up)`));
  };
  const scopes = opts.scope
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0) throw new CliError('--scope names no scope');
  const saved = await manager.authorizeWithDevice({ scopes, onPrompt, signal: controller.signal, userName: opts.user });
  printSaved(out, saved, opts.storeUrl);
}
