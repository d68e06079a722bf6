/**
 * `ztoken login`: Zoho's authorization-code flow in the browser. A callback server listens on
 * loopback, the sign-in URL carries a random `state` that the callback must bring back, and the
 * code is exchanged (access_type=offline, prompt=consent, so a refresh token comes with it).
 * Before waiting, the accounts server is asked whether it accepts the redirect URI, so an
 * unregistered one fails here, naming the fix, rather than on Zoho's page in the browser.
 * `--device` and `--client-credentials` are the other ways in (their own files).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { StoredToken } from '../../token.js';
import { ZohoHosts } from '../../zoho/hosts.js';
import { checkRedirectUri } from '../../zoho/redirect-check.js';
import { browserOptOut } from '../browser.js';
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
import { CliError, describeError, UsageError } from '../errors.js';
import { formatDuration, parseDuration } from '../token-view.js';
import { parsePort } from './emulator.js';
import { printSaved } from './exchange.js';
import { loginWithClientCredentials, parseClientCredentialsFlags } from './login-client-credentials.js';
import { loginWithDevice } from './login-device.js';

export const DEFAULT_SCOPE = 'ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/**
 * The callback port when neither --port nor --redirect-uri names one. Zoho accepts only a redirect
 * URI registered for the client, port included, so the default is fixed (and documented):
 * register http://127.0.0.1:8765/callback once. --port 0 picks a random free port.
 */
export const DEFAULT_LOGIN_PORT = 8765;

interface LoginFlags extends StoreFlags, ClientFlags {
  scope: string;
  port?: number;
  redirectUri?: string;
  user?: string;
  loginHint?: string;
  open: boolean;
  redirectCheck: boolean;
  timeout: number;
  device?: boolean;
  clientCredentials?: boolean;
  soid?: string;
  /** A hidden alias of --scope. */
  scopes?: string;
}

interface Callback {
  /** The redirect URI as registered (host, port, path). */
  redirectUri: URL;
  bindHost: string;
}

/** The redirect URI: --redirect-uri (a loopback http URL), else http://127.0.0.1:PORT/callback (PORT default 8765). */
export function plannedRedirect(flags: { port?: number; redirectUri?: string }): Callback {
  if (flags.redirectUri) {
    let uri: URL;
    try {
      uri = new URL(flags.redirectUri);
    } catch {
      throw new UsageError(`--redirect-uri ${JSON.stringify(flags.redirectUri.slice(0, 80))} is not a URL`);
    }
    if (uri.protocol !== 'http:' || !LOOPBACK_HOSTS.has(uri.hostname)) {
      throw new UsageError(
        '--redirect-uri must be an http URL on this machine: http://127.0.0.1:PORT/path, http://localhost:PORT/path or http://[::1]:PORT/path',
      );
    }
    if (flags.port !== undefined && uri.port !== '' && Number(uri.port) !== flags.port) {
      throw new UsageError(`--port ${flags.port} differs from the port of --redirect-uri (${uri.port})`);
    }
    if (uri.port === '' && flags.port !== undefined) uri.port = String(flags.port);
    return { redirectUri: uri, bindHost: uri.hostname === '[::1]' ? '::1' : '127.0.0.1' };
  }
  return { redirectUri: new URL(`http://127.0.0.1:${flags.port ?? DEFAULT_LOGIN_PORT}/callback`), bindHost: '127.0.0.1' };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new CliError(`Cannot listen for Zoho's callback on ${host}:${port}: ${error.code ?? error.message}`, {
          hint: 'Pick another port with --port N (and register http://127.0.0.1:N/callback for the client), or --port 0 for a random one.',
        }),
      ),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const html = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><meta charset="utf-8"><title>ztoken: ${html(title)}</title><h1>${html(title)}</h1><p>${html(text)}</p>\n`);
}

export function registerLogin(program: Command, cli: CliRuntime): void {
  const command = program
    .command('login')
    .description('sign in with the browser (authorization-code flow) and save the tokens')
    .option('--scope <scopes>', 'comma-separated Zoho scopes', DEFAULT_SCOPE)
    .option('--port <n>', `port of the local callback server (default ${DEFAULT_LOGIN_PORT}; 0: a random free one)`, parsePort)
    .option('--redirect-uri <url>', 'loopback redirect URI registered for the client (default http://127.0.0.1:PORT/callback)')
    .option('--user <name>', "user name to save the token under (default: Zoho's email:zgid)")
    .option('--login-hint <email>', 'account to suggest on the sign-in page')
    .option('--no-open', 'print the URL only; do not try to open a browser (also: ZTOKEN_NO_BROWSER=1, CI)')
    .option('--no-redirect-check', 'do not ask Zoho first whether it accepts the redirect URI')
    .option('--device', 'no browser here: sign in on another device with a code (Zoho device flow)')
    .option('--client-credentials', "no user: a self-client's access token for an org (client_credentials grant, needs --soid)")
    .option('--soid <id>', 'with --client-credentials: the org, ZohoCRM.<org id>')
    .addOption(new Option('--scopes <scopes>').hideHelp())
    .addOption(
      new Option('--timeout <duration>', 'how long to wait for the sign-in: 90s, 5m, 1h')
        .argParser((text: string) => {
          const ms = parseDuration(text);
          if (ms <= 0) throw new InvalidArgumentError('must be more than 0');
          return ms;
        })
        .default(300_000, '5m'),
    );
  addStoreOption(command);
  addClientOptions(command);
  addDebugOption(command);
  addExamples(command, [
    'ztoken login               # register http://127.0.0.1:8765/callback as the redirect URI',
    'ztoken login --port 9000   # register http://127.0.0.1:9000/callback instead',
    'ztoken login --redirect-uri http://localhost:8080/oauth/callback --dc EU',
    'ztoken login --scope ZohoCRM.modules.ALL,ZohoCRM.settings.ALL --no-open',
    'ztoken login --device      # no browser: approve a code on your phone',
    'ztoken login --client-credentials --soid ZohoCRM.10234567 --scope ZohoCRM.modules.ALL',
  ]);
  command.action(async (opts: LoginFlags) => {
    if (opts.scopes !== undefined) {
      if (command.getOptionValueSource('scope') === 'cli') throw new UsageError('Give --scope or --scopes, not both');
      opts.scope = opts.scopes;
    }
    if (opts.clientCredentials) {
      const grant = parseClientCredentialsFlags(opts.soid, opts.scope);
      if (opts.device) throw new UsageError('--client-credentials and --device are two different logins: pick one');
      if (opts.user !== undefined) {
        throw new UsageError('--user does not go with --client-credentials: the token is named after the user Zoho issues it for');
      }
      const client = resolveClient(cli, opts);
      const storeUrl = storeUrlOf(opts);
      await loginWithClientCredentials(cli, await openCliStore(cli, storeUrl, { access: 'write' }), client, grant, storeUrl);
      return;
    }
    if (opts.soid !== undefined) throw new UsageError('--soid goes with --client-credentials');
    const client = resolveClient(cli, opts);
    if (opts.device) {
      const storeUrl = storeUrlOf(opts);
      await loginWithDevice(cli, await openCliStore(cli, storeUrl, { access: 'write' }), client, { ...opts, storeUrl });
      return;
    }
    const planned = plannedRedirect(opts);
    const url = storeUrlOf(opts);
    const store = await openCliStore(cli, url, { access: 'write' });
    // The configured DC's accounts server, by the same rule the manager uses (src/zoho/hosts.ts).
    const hosts = new ZohoHosts({ dataCenter: client.dataCenter, accountsUrl: client.accountsUrl });
    const accountsUrl = hosts.accountsUrlOf(hosts.dataCenter);
    const state = randomBytes(24).toString('base64url');

    let settle!: { resolve: (token: StoredToken) => void; reject: (error: unknown) => void };
    const done = new Promise<StoredToken>((resolve, reject) => {
      settle = { resolve, reject };
    });
    let handled = false;
    const redirectUri = planned.redirectUri;
    const randomPort = redirectUri.port === '0';
    const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const requestUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method !== 'GET' || requestUrl.pathname !== redirectUri.pathname) {
        page(res, 404, 'Not found', 'This server only waits for the Zoho sign-in callback.');
        return;
      }
      if (handled) {
        page(res, 409, 'Already handled', 'The sign-in was already received; return to the terminal.');
        return;
      }
      const q = requestUrl.searchParams;
      if (q.get('state') !== state) {
        // A callback without our state was not started by us: refuse it and stop.
        handled = true;
        page(res, 400, 'Sign-in refused', 'The state parameter does not match the one this login sent.');
        settle.reject(
          new CliError("The callback's state parameter does not match the one sent: refused (it did not come from this login)"),
        );
        return;
      }
      handled = true;
      const zohoError = q.get('error');
      const code = q.get('code');
      if (zohoError || !code) {
        page(res, 400, 'Sign-in failed', `Zoho answered: ${zohoError ?? 'no code'}`);
        settle.reject(
          new CliError(`Zoho did not grant access: ${zohoError ?? 'the callback carried no code'}`, {
            hint:
              zohoError === 'access_denied'
                ? 'The user declined, or Zoho throttled grant tokens (at most 10 per 10 minutes per client).'
                : undefined,
          }),
        );
        return;
      }
      cli.out.addSecret(code);
      try {
        // Zoho names the user's DC (accounts-server, location); the manager exchanges there, and
        // refuses a server that is not Zoho's (or the configured --accounts-url).
        const manager = createManager(cli, store, client, { redirectUrl: redirectUri.toString() });
        const saved = await manager.authorize({
          grantToken: code,
          userName: opts.user,
          accountsServer: q.get('accounts-server') ?? undefined,
          location: q.get('location') ?? undefined,
        });
        page(
          res,
          200,
          'Signed in',
          `Saved the tokens${saved.userName ? ` of ${saved.userName}` : ''}. You can close this tab and return to the terminal.`,
        );
        settle.resolve(saved);
      } catch (error) {
        page(res, 500, 'Sign-in failed', describeError(error, { secrets: cli.out.secrets }).message);
        settle.reject(error);
      }
    };
    const server = createServer((req, res) => {
      onRequest(req, res).catch((error: unknown) => settle.reject(error));
    });
    cli.onCleanup(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const port = await listen(server, planned.bindHost, Number(redirectUri.port || 80));
    redirectUri.port = String(port);

    const auth = new URL(`${accountsUrl.replace(/\/+$/, '')}/oauth/v2/auth`);
    auth.search = new URLSearchParams({
      scope: opts.scope,
      client_id: client.clientId,
      response_type: 'code',
      access_type: 'offline',
      redirect_uri: redirectUri.toString(),
      state,
      prompt: 'consent',
      ...(opts.loginHint ? { login_hint: opts.loginHint } : {}),
    }).toString();

    const { out } = cli;
    if (opts.redirectCheck) await checkRedirect(cli, auth.toString(), redirectUri.toString(), client.clientId, accountsUrl);
    out.line(`Redirect URI: ${out.c.bold(redirectUri.toString())}`);
    out.line(
      out.c.dim(
        randomPort
          ? '  (a random port, as --port 0 asks: Zoho accepts it only if exactly this URI is registered for the client)'
          : '  (register exactly this URI for the client in the Zoho API console: https://api-console.zoho.com)',
      ),
    );
    out.line('Open this URL in a browser to sign in to Zoho:');
    out.line(`  ${out.c.cyan(auth.toString())}`);
    out.line(
      out.c.dim(`Waiting for Zoho to redirect to ${redirectUri.toString()} (up to ${formatDuration(opts.timeout)}; Ctrl-C to give up)`),
    );
    await openSignInPage(cli, auth.toString(), opts);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CliError(`No sign-in arrived within ${formatDuration(opts.timeout)}`, {
              hint: 'Run ztoken login again, or raise --timeout.',
            }),
          ),
        opts.timeout,
      );
    });
    try {
      const saved = await Promise.race([done, timeout]);
      printSaved(out, saved, url);
    } finally {
      clearTimeout(timer);
    }
  });
}

/**
 * Fails when the accounts server says it does not accept this redirect URI for the client; warns
 * and goes on when its answer says nothing either way (a login never fails on a guess).
 */
async function checkRedirect(cli: CliRuntime, authUrl: string, redirectUri: string, clientId: string, accountsUrl: string): Promise<void> {
  const check = await checkRedirectUri(authUrl, redirectUri);
  if (check.verdict === 'refused') {
    throw new CliError(
      `${accountsUrl} refuses the redirect URI ${redirectUri} for client ${clientId}: it is not registered for that client (${check.detail})`,
      {
        hint: `Add exactly ${redirectUri} to the client's Authorized Redirect URIs in the Zoho API console (https://api-console.zoho.com), or pass the one it has with --redirect-uri URL (or --port N).`,
      },
    );
  }
  if (check.verdict === 'inconclusive') {
    cli.out.warn(
      `Could not check the redirect URI with ${accountsUrl}: ${check.detail}. Going on; if Zoho's page says "Invalid Redirect Uri", register ${redirectUri} for the client.`,
    );
  } else if (cli.debug) {
    cli.out.note(cli.out.ce.dim(`debug: ${accountsUrl} accepts the redirect URI: ${check.detail}`));
  }
}

/** Opens the sign-in page where it can; the URL is printed either way, so a failure only says so. */
async function openSignInPage(cli: CliRuntime, url: string, flags: { open: boolean }): Promise<void> {
  const { out } = cli;
  const optOut = browserOptOut(flags, cli.env);
  if (optOut) {
    if (optOut !== '--no-open') out.line(out.c.dim(`(no browser opened: ${optOut})`));
    return;
  }
  try {
    await cli.openBrowser(url);
    out.line(out.c.dim('(a browser window was opened)'));
  } catch (error) {
    out.line(out.c.dim(`(could not open a browser: ${(error as Error).message}; open the URL above yourself)`));
  }
}
