/**
 * What every command shares: the runtime (output, env, cleanups, exit code), the common options
 * (--store, --key-file, client settings, --debug), and turning them into a store and a
 * TokenManager. Flags win over environment variables, which win over defaults.
 */
import { type Command, Option } from 'commander';
import { loadKeysFromEnv, loadKeysFromFile, type ParsedKey } from '../crypto/keys.js';
import { TokenStoreError, ZTokenError } from '../errors.js';
import { type Logger, TokenManager, type TokenManagerOptions } from '../manager/token-manager.js';
import type { TokenStore } from '../store.js';
import { DEFAULT_STORE_URL, describeStoreUrl, isEncryptedStoreUrl, KEY_FILE_ENV_VAR, openStore, SUPPORTED_SCHEMES } from '../stores/url.js';
import type { OAuthToken } from '../token.js';
import { ZohoHosts } from '../zoho/hosts.js';
import { encryptedFieldsOf } from '../crypto/cipher.js';
import { DATA_CENTERS, type DataCenter, dataCenterOfApiDomain, parseDataCenter } from '../zoho/datacenter.js';
import { type BrowserOpener, openWithSystemBrowser } from './browser.js';
import { cliCommand } from './cli-command.js';
import { CliError, EXIT_OK, KEYS_HINT, plainStoreMessage, UsageError } from './errors.js';
import type { Output } from './output.js';

export class CliRuntime {
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
  /** Store URLs this command used, so a store failure can say where. */
  readonly storeUrls: string[] = [];
  debug: boolean;
  /** The key file for `?encrypt=1` stores (--key-file / ZTOKEN_KEY_FILE); unset: ZTOKEN_KEYS. */
  keyFile: string | undefined;
  exitCode = EXIT_OK;
  /** Opens a URL in a browser (`ztoken login`); tests give their own, so no browser is launched. */
  readonly openBrowser: BrowserOpener;
  private readonly cleanups: (() => Promise<unknown> | unknown)[] = [];

  constructor(out: Output, env: NodeJS.ProcessEnv, debug = false, openBrowser: BrowserOpener = openWithSystemBrowser) {
    this.out = out;
    this.env = env;
    this.debug = debug;
    this.openBrowser = openBrowser;
  }

  /** Runs `fn` at the end of the command, last registered first, whatever happened. */
  onCleanup(fn: () => Promise<unknown> | unknown): void {
    this.cleanups.push(fn);
  }

  /** Runs the cleanups; one that hangs (a driver that never closes) is given up after 5 s. */
  async cleanup(): Promise<void> {
    while (this.cleanups.length > 0) {
      const fn = this.cleanups.pop();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(() => fn?.()),
          new Promise((resolve) => {
            timer = setTimeout(resolve, 5_000);
          }),
        ]);
      } catch (error) {
        if (this.debug) this.out.note(`cleanup failed: ${(error as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /**
   * A logger for TokenManager: warnings always, the rest with --debug. A command that reports
   * the manager's failures itself passes `warnings: 'debug'`, so one failure is told once.
   */
  logger(options: { warnings?: 'print' | 'debug' } = {}): Logger {
    const dim = (text: string) => this.out.ce.dim(text);
    const quiet = options.warnings === 'debug';
    return {
      debug: (m) => this.debug && this.out.note(dim(`debug: ${m}`)),
      info: (m) => this.debug && this.out.note(dim(`info: ${m}`)),
      warn: (m) => (quiet ? this.debug && this.out.note(dim(`debug: ${m}`)) : this.out.warn(m)),
      error: (m) => this.out.note(`${this.out.ce.red('error:')} ${m}`),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Options

export interface StoreFlags {
  store?: string;
  keyFile?: string;
}

export interface ClientFlags {
  clientId?: string;
  clientSecret?: string;
  dc?: string;
  accountsUrl?: string;
}

export interface CommonFlags {
  debug?: boolean;
}

export function addStoreOption(command: Command): Command {
  command.addOption(
    new Option('--store <url>', `token store URL (${SUPPORTED_SCHEMES.join(' ')})`).env('ZTOKEN_STORE').default(DEFAULT_STORE_URL),
  );
  return addKeyFileOption(command);
}

/** --key-file: where the keys of a `?encrypt=1` store come from (program.ts copies it to the runtime). */
export function addKeyFileOption(command: Command): Command {
  return command.addOption(
    new Option('--key-file <path>', 'encryption keys for a store URL with ?encrypt=1 (a mode 0600 file; default: ZTOKEN_KEYS)').env(
      KEY_FILE_ENV_VAR,
    ),
  );
}

export function addClientOptions(command: Command): Command {
  return command
    .addOption(new Option('--client-id <id>', 'Zoho client id (from the API console)').env('ZOHO_CLIENT_ID'))
    .addOption(
      new Option('--client-secret <secret>', 'Zoho client secret (prefer the env var: flags show in ps)').env('ZOHO_CLIENT_SECRET'),
    )
    .addOption(new Option('--dc <code>', `Zoho data center: ${DATA_CENTERS.join(', ')} (default US)`).env('ZOHO_DC'))
    .addOption(new Option('--accounts-url <url>', 'accounts server, overrides --dc (e.g. the emulator url)').env('ZOHO_ACCOUNTS_URL'));
}

export function addDebugOption(command: Command): Command {
  return command.option('--debug', 'print stack traces of errors and the manager log');
}

/**
 * The settings that may come before the command name too (`ztoken --store X list`, as gh and
 * kubectl allow). The program takes them wherever they are on the line (hidden from its help:
 * the Settings block lists them); applyGlobalOptions hands them to the command, which declares
 * each one it takes, with its environment variable and default.
 */
export function addGlobalOptions(program: Command): Command {
  const hidden = (flags: string) => new Option(flags).hideHelp();
  for (const flags of [
    '--store <url>',
    '--key-file <path>',
    '--client-id <id>',
    '--client-secret <secret>',
    '--dc <code>',
    '--accounts-url <url>',
  ]) {
    program.addOption(hidden(flags));
  }
  return program.addOption(hidden('--debug'));
}

/** Gives the command the global settings of its line; one it does not take is a usage error. */
export function applyGlobalOptions(program: Command, command: Command): void {
  for (const option of program.options) {
    const key = option.attributeName();
    if (program.getOptionValueSource(key) !== 'cli') continue;
    if (!command.options.some((own) => own.attributeName() === key)) {
      throw new UsageError(`ztoken ${command.name()} takes no ${option.long}`, { hint: `See ztoken ${command.name()} --help.` });
    }
    command.setOptionValueWithSource(key, program.getOptionValue(key), 'cli');
  }
}

/** Examples appended to a command's --help. */
export function addExamples(command: Command, examples: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// Store

/** The store URL of --store / ZTOKEN_STORE; an empty one is a usage error, not the default store. */
export function storeUrlOf(flags: StoreFlags): string {
  if (flags.store === undefined) return DEFAULT_STORE_URL;
  if (flags.store.trim() === '') {
    throw new UsageError('The store URL is empty (--store or ZTOKEN_STORE)', {
      hint: `Name a store, e.g. --store ${DEFAULT_STORE_URL} (the default when neither is given).`,
    });
  }
  return flags.store;
}

/**
 * What a command does with its store:
 * - `read` (list, show, verify, delete, purge): the store must exist; encrypted values read
 *   without the keys are shown as they are, with a warning naming the fix;
 * - `use` (refresh, revoke, the source of migrate): the store must exist, and encrypted values
 *   are refused (they would go to Zoho, or be copied as if they were the secrets);
 * - `write` (login, exchange, the target of migrate, demo): a missing store is created, and the
 *   command says so; encrypted values are refused (plaintext would be mixed in).
 */
export type StoreAccess = 'read' | 'use' | 'write';

/** How a store gets made, in the command that works where the CLI runs. */
function createHint(): string {
  const z = cliCommand();
  return `Nothing was created. A store is created by the first command that saves a token in it: ${z} login, ${z} exchange --grant-token CODE, or ${z} migrate --to URL.`;
}

/**
 * Opens the store and makes one cheap read, so an unreachable store is reported here, naming
 * where it looked, rather than in the middle of a command. Closed when the command ends.
 */
export async function openCliStore(
  cli: CliRuntime,
  url: string,
  options: { access: StoreAccess; probe?: boolean; sayCreated?: boolean },
): Promise<TokenStore> {
  cli.storeUrls.push(url);
  const shown = describeStoreUrl(url);
  const keys = isEncryptedStoreUrl(url) ? loadCliKeys(cli) : undefined;
  let store: TokenStore;
  try {
    store = await openStore(url, { env: cli.env, keys, create: false });
  } catch (error) {
    const missing = error instanceof TokenStoreError && error.reason === 'NOT_FOUND';
    if (!missing) throw storeOpenError(error, shown);
    if (options.access !== 'write')
      throw new CliError(`No token store at ${shown}: ${error.message}`, { cause: error, hint: createHint() });
    try {
      store = await openStore(url, { env: cli.env, keys });
    } catch (second) {
      throw storeOpenError(second, shown);
    }
    if (options.sayCreated ?? true) cli.out.note(cli.out.c.dim(`New token store ${shown}: it did not exist, so it is created.`));
  }
  cli.onCleanup(() => store.close());
  if (options.probe ?? true) {
    try {
      await store.findTokenById('1');
    } catch (error) {
      throw storeOpenError(error, shown);
    }
  }
  if (keys === undefined) await checkNoCiphertext(cli, store, url, options.access);
  return store;
}

/**
 * A store opened without `?encrypt=1` whose tokens hold encrypted values (another run wrote them
 * with keys): reading shows ciphertext, so it is told; anything that would use or add secrets is refused.
 */
async function checkNoCiphertext(cli: CliRuntime, store: TokenStore, url: string, access: StoreAccess): Promise<void> {
  const encrypted = (await store.getTokens()).filter((token) => encryptedFieldsOf(token).length > 0);
  if (encrypted.length === 0) return;
  const first = encrypted[0];
  const what = `${encrypted.length} token${encrypted.length === 1 ? '' : 's'} (first: id ${first?.id}, ${encryptedFieldsOf(first ?? {}).join(', ')})`;
  const fix = `add ?encrypt=1 to the store URL (${describeStoreUrl(url)}) and give its keys with --key-file PATH, ZTOKEN_KEY_FILE or ZTOKEN_KEYS`;
  if (access === 'read') {
    cli.out.warn(`The store holds encrypted values in ${what}, shown here as stored (ciphertext, not the secrets): ${fix}`);
    return;
  }
  throw new CliError(
    `The store is encrypted (${what}) but was opened without ?encrypt=1: refusing to use ciphertext as secrets or mix plaintext in`,
    {
      hint: `To use it, ${fix}.`,
    },
  );
}

/**
 * The keys of an encrypted store, from --key-file / ZTOKEN_KEY_FILE or else ZTOKEN_KEYS, loaded
 * here first so that a key problem is told as one (naming the file and line or the entry).
 */
function loadCliKeys(cli: CliRuntime): ParsedKey[] {
  try {
    return cli.keyFile ? loadKeysFromFile(cli.keyFile) : loadKeysFromEnv(cli.env);
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof TokenStoreError && error.reason === 'INVALID_ARGUMENT')
      throw new UsageError(message, { cause: error, hint: KEYS_HINT });
    throw new CliError(message, { cause: error, hint: KEYS_HINT });
  }
}

function storeOpenError(error: unknown, shown: string): Error {
  if (error instanceof TokenStoreError && error.reason === 'INVALID_ARGUMENT') {
    const aboutUrl = /supported schemes|names no path|Empty store URL/.test(error.message);
    return new UsageError(error.message, {
      cause: error,
      hint: aboutUrl ? 'Pass --store URL or set ZTOKEN_STORE, e.g. --store sqlite:./zohooauth.db' : undefined,
    });
  }
  if (error instanceof TokenStoreError || error instanceof ZTokenError) {
    const where = error.message.includes(shown) ? '' : ` (${shown})`;
    const hint = error instanceof TokenStoreError && error.reason === 'CRYPTO' ? KEYS_HINT : undefined;
    return new CliError(`Cannot use the token store${where}: ${plainStoreMessage(error.message)}`, { cause: error, hint });
  }
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return new CliError(`The store for ${shown} is not available in this installation: ${(error as Error).message}`, { cause: error });
  }
  return new CliError(`Cannot open the token store ${shown}: ${(error as Error).message ?? String(error)}`, { cause: error });
}

// ---------------------------------------------------------------------------------------------
// Client settings

export interface ClientSettings {
  clientId: string;
  clientSecret: string;
  dataCenter?: DataCenter;
  accountsUrl?: string;
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * The client from flags or env; when both are silent, from `fallback` (a stored token carries
 * its client id and secret, and its api domain names its data center).
 */
export function resolveClient(cli: CliRuntime, flags: ClientFlags, fallback?: OAuthToken | null): ClientSettings {
  const clientId = present(flags.clientId) ?? present(fallback?.clientId);
  const clientSecret = flags.clientSecret ?? fallback?.clientSecret;
  if (!clientId) {
    throw new UsageError('Missing the Zoho client id: pass --client-id or set ZOHO_CLIENT_ID', {
      hint: 'Find it in the Zoho API console (https://api-console.zoho.com), under your client.',
    });
  }
  if (!clientSecret) {
    throw new UsageError('Missing the Zoho client secret: set ZOHO_CLIENT_SECRET or pass --client-secret', {
      hint: 'The environment variable keeps the secret out of your shell history and the process list.',
    });
  }
  cli.out.addSecret(clientSecret);
  const settings: ClientSettings = { clientId, clientSecret };
  const dc = present(flags.dc);
  if (dc) {
    try {
      settings.dataCenter = parseDataCenter(dc);
    } catch (error) {
      throw new UsageError(`${(error as Error).message} (from --dc or ZOHO_DC)`);
    }
  } else if (fallback?.apiDomain) {
    settings.dataCenter = dataCenterOfApiDomain(fallback.apiDomain) ?? undefined;
  }
  const accountsUrl = present(flags.accountsUrl);
  if (accountsUrl) {
    let parsed: URL;
    try {
      parsed = new URL(accountsUrl);
    } catch {
      throw new UsageError(
        `--accounts-url / ZOHO_ACCOUNTS_URL ${JSON.stringify(accountsUrl.slice(0, 80))} is not a URL (e.g. https://accounts.zoho.eu)`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UsageError(`--accounts-url / ZOHO_ACCOUNTS_URL must be http(s), got ${parsed.protocol}`);
    }
    settings.accountsUrl = accountsUrl.replace(/\/+$/, '');
  }
  return settings;
}

/**
 * The DC table as this command sees it: --dc / ZOHO_DC and --accounts-url / ZOHO_ACCOUNTS_URL
 * (an emulator) as the configured DC's override, for showing each token's DC. A setting that does
 * not parse is left to the commands that use it to report; here it falls back to Zoho's table.
 */
export function cliHosts(cli: CliRuntime, flags: { dc?: string; accountsUrl?: string } = {}): ZohoHosts {
  const dc = present(flags.dc ?? cli.env.ZOHO_DC);
  const accountsUrl = present(flags.accountsUrl ?? cli.env.ZOHO_ACCOUNTS_URL);
  try {
    return new ZohoHosts({ dataCenter: dc ? parseDataCenter(dc) : undefined, accountsUrl });
  } catch {
    return new ZohoHosts();
  }
}

export function createManager(
  cli: CliRuntime,
  store: TokenStore,
  client: ClientSettings,
  extra: Partial<Omit<TokenManagerOptions, 'store' | 'clientId' | 'clientSecret'>> = {},
): TokenManager {
  return new TokenManager({
    store,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    dataCenter: client.dataCenter,
    accountsUrl: client.accountsUrl,
    logger: cli.logger(),
    ...extra,
  });
}
