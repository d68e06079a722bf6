/**
 * `ztoken serve`: the token broker in the foreground. One process refreshes (in the background,
 * `--refresh-ahead` before expiry, under the store's fleet lock); readers get access tokens over
 * HTTP with a bearer key. SIGHUP rereads the keys file; SIGTERM / SIGINT drain and exit 0.
 * Every log line is one JSON object on stdout (audit lines included), scrubbed of secrets.
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { KeyRing, readKeysFile } from '../../broker/keys-file.js';
import { checkTransport, DEFAULT_LISTEN, type ListenAddress, parseListen } from '../../broker/listen.js';
import { Broker, countingFetch } from '../../broker/server.js';
import { ZTokenError } from '../../errors.js';
import type { Logger } from '../../manager/token-manager.js';
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
import { CliError, UsageError } from '../errors.js';
import { parseDuration } from '../token-view.js';

interface ServeFlags extends StoreFlags, ClientFlags {
  keys: string;
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  refreshAhead: number;
  lockTtl: number;
  debug?: boolean;
}

const DEFAULT_SKEW_MS = 5 * 60_000;

function usage(error: unknown): never {
  throw new UsageError((error as Error).message, { cause: error });
}

function loadKeys(path: string): KeyRing {
  try {
    return new KeyRing(readKeysFile(path));
  } catch (error) {
    throw new CliError((error as Error).message, { cause: error });
  }
}

function readTls(flags: ServeFlags): { cert: Buffer; key: Buffer } | undefined {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) return undefined;
  if (!flags.tlsCert || !flags.tlsKey) throw new UsageError('TLS needs both --tls-cert and --tls-key');
  try {
    return { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) };
  } catch (error) {
    throw new CliError(`Cannot read the TLS files: ${(error as Error).message}`, { cause: error });
  }
}

export function registerServe(program: Command, cli: CliRuntime): void {
  const command = program
    .command('serve')
    .description('run the token broker: readers get access tokens over HTTP with a key; one process refreshes')
    .requiredOption('--keys <file>', 'the keys file of `ztoken serve-key add` (reread on SIGHUP)')
    .option('--listen <host:port>', 'address to listen on (a non-loopback one needs TLS or --insecure-http)', DEFAULT_LISTEN)
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'and this private key (PEM)')
    .option('--insecure-http', 'allow plain HTTP on a non-loopback address (behind a TLS proxy only)')
    .addOption(
      new Option('--refresh-ahead <duration>', 'refresh each token this long before it expires, in the background (0s: on demand only)')
        .argParser(parseDuration)
        .default(10 * 60_000, '10m'),
    )
    .addOption(
      new Option('--lock-ttl <duration>', 'fleet lock ttl: a crashed broker delays the others at most this long')
        .argParser(parseDuration)
        .default(30_000, '30s'),
    );
  addStoreOption(command);
  addClientOptions(command);
  addDebugOption(command);
  addExamples(command, [
    'ztoken serve-key add --keys ./broker-keys.json --name billing --allow-user alice@zylker.com',
    'ztoken serve --store postgres://ztoken@db/zoho --keys ./broker-keys.json',
    'ztoken serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --keys ./broker-keys.json',
    'curl -s -H "Authorization: Bearer $KEY" -d \'{"userName":"alice@zylker.com"}\' http://127.0.0.1:8787/v1/access-token',
  ]);
  command.action(async (flags: ServeFlags) => {
    let listen: ListenAddress;
    try {
      listen = parseListen(flags.listen);
    } catch (error) {
      usage(error);
    }
    const tls = readTls(flags);
    try {
      checkTransport(listen, tls !== undefined, flags.insecureHttp === true);
    } catch (error) {
      throw new UsageError((error as Error).message, { cause: error });
    }
    const keys = loadKeys(flags.keys);
    const url = storeUrlOf(flags);
    const client = resolveClient(cli, flags);
    const store = await openCliStore(cli, url, { access: 'use' });
    const { out } = cli;
    const log = (line: Record<string, unknown>) => out.line(JSON.stringify({ time: new Date().toISOString(), ...line }));
    const logger: Logger = {
      debug: (message) => flags.debug && log({ event: 'log', level: 'debug', message }),
      info: (message) => flags.debug && log({ event: 'log', level: 'info', message }),
      warn: (message) => log({ event: 'log', level: 'warn', message }),
      error: (message) => log({ event: 'log', level: 'error', message }),
    };
    let broker: Broker | undefined;
    const ahead = flags.refreshAhead;
    const manager = createManager(cli, store, client, {
      // On demand, a reader waits on Zoho only when the background refresh could not run.
      refreshSkewMs: ahead > 0 ? Math.min(DEFAULT_SKEW_MS, ahead / 2) : DEFAULT_SKEW_MS,
      lockTtlMs: flags.lockTtl,
      resolveUserName: false,
      fetch: countingFetch(
        () => broker?.metrics,
        (line) => flags.debug && log(line),
      ),
      logger,
    });
    const stop = untilStopSignal();
    try {
      broker = await Broker.start({
        manager,
        store,
        keys,
        listen,
        tls,
        insecureHttp: flags.insecureHttp === true,
        refreshAheadMs: ahead,
        secrets: [client.clientSecret],
        log,
        closeStore: false,
      });
    } catch (error) {
      stop.cancel();
      if (error instanceof ZTokenError && error.reason === 'LISTEN_FAILED') throw new CliError(error.message, { cause: error });
      throw error;
    }
    log({ event: 'listening', url: broker.url, store: describeStoreUrl(url), keys: keys.size, refreshAheadMs: ahead, pid: process.pid });
    const onHup = () => {
      try {
        broker?.reloadKeys(new KeyRing(readKeysFile(flags.keys)));
      } catch (error) {
        log({ event: 'keys-reload-failed', message: (error as Error).message, keptKeys: true });
      }
    };
    process.on('SIGHUP', onHup);
    const signal = await stop.promise;
    log({ event: 'stopping', signal });
    await broker.close();
    process.off('SIGHUP', onHup);
    log({ event: 'stopped', signal });
  });
}

/** Resolves on the first SIGINT or SIGTERM (a second one is left to Node: it ends the process). */
function untilStopSignal(): { promise: Promise<NodeJS.Signals>; cancel(): void } {
  let done: (signal: NodeJS.Signals) => void = () => undefined;
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    done = (signal) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
  });
  process.on('SIGINT', done);
  process.on('SIGTERM', done);
  return {
    promise,
    cancel: () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
    },
  };
}
