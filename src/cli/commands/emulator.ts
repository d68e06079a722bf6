/** `ztoken emulator --port N`: the Zoho emulator in the foreground until Ctrl-C or SIGTERM. */
import { type Command, InvalidArgumentError } from 'commander';
import { redact } from '../../token.js';
import { DEFAULT_CLIENT, DEFAULT_USERS, startEmulator } from '../../zoho/emulator/index.js';
import { addDebugOption, addExamples, type CliRuntime } from '../context.js';
import { UsageError } from '../errors.js';

/** A TCP port, 0..65535 (0: a free one). */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text.trim()) || !Number.isInteger(port) || port > 65535) {
    throw new InvalidArgumentError('expected a port number 0..65535 (0 picks a free one)');
  }
  return port;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export function registerEmulator(program: Command, cli: CliRuntime): void {
  const command = program
    .command('emulator')
    .description('run the Zoho emulator (accounts server + CRM API, with every Zoho limit) until Ctrl-C')
    .option('--port <n>', 'port to listen on (0 picks a free one)', parsePort, 0)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--show-secret', "print the emulator client's secret whole")
    .option('--print-env', "print the shell settings that point ztoken at this emulator's client (secret included), and exit");
  addDebugOption(command);
  addExamples(command, [
    'ztoken emulator --port 8089 &                       # the emulator, in the background',
    'eval "$(ztoken emulator --port 8089 --print-env)"   # ZOHO_ACCOUNTS_URL, ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET',
    'ztoken exchange --grant-token "$(curl -s -X POST http://127.0.0.1:8089/__emulator/grant | jq -r .code)" --store sqlite:./emulator.db',
  ]);
  command.action(async (opts: { port: number; host: string; showSecret?: boolean; printEnv?: boolean }) => {
    if (opts.printEnv) {
      if (opts.port === 0) throw new UsageError('--print-env needs the --port the emulator listens on');
      const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      cli.out.line(
        `export ZOHO_ACCOUNTS_URL=http://${host}:${opts.port} ZOHO_CLIENT_ID=${DEFAULT_CLIENT.clientId} ZOHO_CLIENT_SECRET=${DEFAULT_CLIENT.clientSecret}`,
      );
      return;
    }
    const stop = untilSignal();
    const emulator = await startEmulator({ port: opts.port, host: opts.host });
    cli.onCleanup(() => emulator.close());
    const { out } = cli;
    const c = out.c;
    const secret = DEFAULT_CLIENT.clientSecret;
    if (!opts.showSecret) out.addSecret(secret);
    out.line(`${c.bold('Zoho emulator')} listening on ${c.cyan(emulator.url)}`);
    out.line(`  accounts server  ${emulator.accountsUrl}   (--accounts-url / ZOHO_ACCOUNTS_URL)`);
    out.line(`  API domain       ${emulator.apiDomain}`);
    out.line(`  client id        ${DEFAULT_CLIENT.clientId}`);
    out.line(`  client secret    ${opts.showSecret ? secret : `${redact(secret)}   (--show-secret prints it)`}`);
    out.line(`  redirect URIs    ${(DEFAULT_CLIENT.redirectUris ?? []).join(', ')}   (registered; ztoken login uses the first)`);
    out.line(`  users            ${DEFAULT_USERS.map((u) => u.email).join(', ')} (any other email signs in as a new user)`);
    out.line('Zoho endpoints:');
    out.line('  POST /oauth/v2/token          grant exchange and refresh');
    out.line('  POST /oauth/v2/token/revoke   revoke a refresh token');
    out.line('  GET  /oauth/v2/auth           browser sign-in (redirects at once with a code)');
    out.line('  GET  /crm/v8/users, /crm/v8/org, /crm/v8/Leads');
    out.line('Admin endpoints:');
    out.line('  GET  /__emulator/state                       clock, counters, limits');
    out.line('  POST /__emulator/grant?user=EMAIL            a self-client grant token: {"code": ...}');
    out.line('  POST /__emulator/clock/advance?ms=3600000    move emulated time forward');
    out.line('  POST /__emulator/clock/set?ms=EPOCH_MS       set emulated time');
    out.line('  POST /__emulator/reset-counters');
    out.line('  POST /__emulator/expire-access-tokens        invalidate every access token');
    out.line(c.dim('Press Ctrl-C to stop.'));
    const signal = await stop;
    await emulator.close();
    out.line(`Emulator stopped (${signal}).`);
  });
}
