/**
 * The ztoken program: commands registered on commander, usage errors turned into exit code 2,
 * failures into plain words and exit code 1, and everything the command opened closed at the end.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerDelete } from './commands/delete.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEmulator } from './commands/emulator.js';
import { registerExchange } from './commands/exchange.js';
import { registerKeygen } from './commands/keygen.js';
import { registerList } from './commands/list.js';
import { registerLogin } from './commands/login.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPurge } from './commands/purge.js';
import { registerRepairIds } from './commands/repair-ids.js';
import { registerRefresh } from './commands/refresh.js';
import { registerRevoke } from './commands/revoke.js';
import { registerRotateKey } from './commands/rotate-key.js';
import { registerServe } from './commands/serve.js';
import { registerServeKey } from './commands/serve-key.js';
import { registerShow } from './commands/show.js';
import { registerVerify } from './commands/verify.js';
import type { BrowserOpener } from './browser.js';
import { addGlobalOptions, applyGlobalOptions, CliRuntime } from './context.js';
import { debugDetails, describeError, exitCodeOf, isCommanderError } from './errors.js';
import { Output, type OutputStream } from './output.js';

function packageVersion(): string {
  try {
    // src/cli/program.ts and dist/cli/program.js both sit two levels below package.json.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(cli: CliRuntime): Command {
  const { out } = cli;
  const program = new Command('ztoken');
  program
    .description('Zoho OAuth tokens from the terminal: sign in, list, refresh, revoke, migrate between stores, verify a store')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => out.stdout.write(text),
      writeErr: (text) => out.stderr.write(text),
      outputError: (text, write) => write(out.ce.red(text)),
    })
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)');
  addGlobalOptions(program);
  program.hook('preAction', (_program, action) => {
    applyGlobalOptions(program, action);
    const opts = action.opts();
    if (opts.debug) cli.debug = true;
    if (typeof opts.keyFile === 'string' && opts.keyFile.trim() !== '') cli.keyFile = opts.keyFile;
  });
  registerDemo(program, cli);
  registerLogin(program, cli);
  registerExchange(program, cli);
  registerList(program, cli);
  registerShow(program, cli);
  registerRefresh(program, cli);
  registerRevoke(program, cli);
  registerDelete(program, cli);
  registerPurge(program, cli);
  registerMigrate(program, cli);
  registerRepairIds(program, cli);
  registerVerify(program, cli);
  registerDoctor(program, cli);
  registerKeygen(program, cli);
  registerRotateKey(program, cli);
  registerEmulator(program, cli);
  registerServe(program, cli);
  registerServeKey(program, cli);
  program.addHelpText(
    'after',
    `
Settings (before or after the command; flags win over environment variables):
  --store URL        ZTOKEN_STORE        default sqlite:./zohooauth.db
  --client-id ID     ZOHO_CLIENT_ID
  --client-secret S  ZOHO_CLIENT_SECRET
  --dc CODE          ZOHO_DC             US EU IN CN JP AU CA SA
  --accounts-url URL ZOHO_ACCOUNTS_URL   e.g. the emulator's url
  --key-file PATH    ZTOKEN_KEY_FILE     keys of a store URL with ?encrypt=1 (else ZTOKEN_KEYS)

Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.

Examples:
  $ ztoken demo
  $ ztoken login --port 8765
  $ ztoken list
  $ ztoken migrate --from file:./sdk_tokens.txt --to sqlite:./zohooauth.db
`,
  );
  return program;
}

export interface MainOptions {
  env?: NodeJS.ProcessEnv;
  stdout?: OutputStream;
  stderr?: OutputStream;
  /** Opens the sign-in URL of `ztoken login` (default: the system browser, via the open package). */
  openBrowser?: BrowserOpener;
}

/** Runs one command line (`argv` as process.argv: node, script, args...); resolves to the exit code. */
export async function main(argv: string[] = process.argv, options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const out = new Output({ stdout: options.stdout, stderr: options.stderr, env });
  const cli = new CliRuntime(out, env, argv.includes('--debug') || env.ZTOKEN_DEBUG === '1', options.openBrowser);
  const program = buildProgram(cli);
  try {
    await program.parseAsync(argv);
    return cli.exitCode;
  } catch (error) {
    if (isCommanderError(error)) return exitCodeOf(error);
    const { message, hints } = describeError(error, { storeUrls: cli.storeUrls, secrets: out.secrets });
    out.note(`${out.ce.red('ztoken: error:')} ${message}`);
    for (const hint of hints) out.note(out.ce.dim(`  ${hint}`));
    if (cli.debug) out.note(out.ce.dim(debugDetails(error, out.secrets)));
    return exitCodeOf(error);
  } finally {
    await cli.cleanup();
  }
}
