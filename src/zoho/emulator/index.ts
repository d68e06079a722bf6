/**
 * The Zoho emulator: an embedded Zoho accounts server and CRM API on loopback that behaves like
 * Zoho (ZOHO.md: formats, errors, every limit), with a controllable clock. It powers the demo,
 * the tests, the benchmarks and `ztoken emulator --port N`. One server answers both the accounts
 * endpoints and the CRM API, so `accountsUrl === apiDomain === url`.
 *
 * Endpoints: see oauth-routes.ts (token, revoke, auth), crm-routes.ts (users, org, Leads),
 * settings-routes.ts (the field and module metadata the official SDKs fetch) and
 * admin-routes.ts (`/__emulator/state`, `clock/advance`, `clock/set`, `grant`, `reset-counters`,
 * `expire-access-tokens`). State lives in memory (Maps); nothing is logged, and counters key
 * refresh tokens by `refreshTokenHandle(rt)` (`rt_` + 16 hex of its SHA-256), never the token.
 */
import type { AddressInfo } from 'node:net';
import { ZTokenError } from '../../errors.js';
import { accountsUrlFor, DATA_CENTERS, type DataCenter, type Environment, parseDataCenter, parseEnvironment } from '../datacenter.js';
import { createClock, type EmulatorClock } from './clock.js';
import { type DeviceControl, DeviceRegistry } from './device-routes.js';
import { refreshTokenHandle } from './ids.js';
import { createEmulatorServer } from './server.js';
import {
  type EmulatorClientConfig,
  type EmulatorCounters,
  type EmulatorLimits,
  EmulatorState,
  type EmulatorUser,
  type EmulatorUserConfig,
  type IssueGrantOptions,
} from './state.js';

export type { EmulatorClock } from './clock.js';
export { refreshTokenHandle } from './ids.js';
export {
  DEFAULT_LIMITS,
  WINDOW_MS,
  type EmulatorClientConfig,
  type EmulatorCounters,
  type EmulatorLimits,
  type EmulatorUser,
  type EmulatorUserConfig,
  type IssueGrantOptions,
} from './state.js';
export { booksOrganizationId } from './books-routes.js';
export { INVALID_TOKEN_BODY } from './crm-routes.js';
export { DEVICE_EXPIRES_S, DEVICE_INTERVAL_S, type DeviceApproval, type DeviceControl } from './device-routes.js';

/**
 * The client the emulator knows when given none. Like a Zoho client it has registered redirect
 * URIs: those of `ztoken login` on its default port (8765), so a login elsewhere is refused as Zoho would.
 */
export const DEFAULT_CLIENT: Readonly<EmulatorClientConfig> = Object.freeze({
  clientId: '1000.EMULATORCLIENT0000000000000000',
  clientSecret: 'emulator-secret-0123456789abcdef0123456789',
  redirectUris: Object.freeze(['http://127.0.0.1:8765/callback', 'http://localhost:8765/callback']) as string[],
});

export const DEFAULT_USERS: readonly Readonly<EmulatorUserConfig>[] = Object.freeze([
  { email: 'alice@zylker.com', zgid: '700123456', name: 'Alice Zylker' },
  { email: 'bob@zylker.com', zgid: '700123456', name: 'Bob Zylker' },
]);

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Replaces the default client when given. */
  clients?: EmulatorClientConfig[];
  /** Replaces the default users (alice@ and bob@zylker.com) when given. */
  users?: EmulatorUserConfig[];
  /** Emulated epoch ms at start; default Date.now(). */
  startTime?: number;
  limits?: Partial<EmulatorLimits>;
  /** Real ms added before each Zoho (non-admin) answer. Default 0. */
  latencyMs?: number;
  /** HTTP status of token/revoke error bodies: Zoho mostly answers 200, sometimes 400. Default 200. */
  tokenErrorStatus?: 200 | 400;
  /**
   * The data center this emulator plays (default US): its `location` in the login redirect.
   * Start one per DC, with the same `clients`, to emulate a multi-DC client: each refuses the
   * grants and refresh tokens another one issued, as Zoho's DCs do.
   */
  dataCenter?: DataCenter;
  /** The environment it plays (informational: its api_domain is always its own url). */
  environment?: Environment;
  /** Entries of `GET /oauth/serverinfo` (US only) to replace, e.g. `{ EU: euEmulator.url }`. */
  serverInfo?: Partial<Record<DataCenter, string>>;
}

export interface Emulator {
  /** `http://127.0.0.1:PORT`: accounts server and API domain at once. */
  readonly url: string;
  readonly accountsUrl: string;
  readonly apiDomain: string;
  readonly port: number;
  readonly dataCenter: DataCenter;
  readonly environment: Environment;
  readonly clock: EmulatorClock;
  readonly limits: Readonly<EmulatorLimits>;
  /** A snapshot of the counters (a new object each read). */
  readonly counters: EmulatorCounters;
  /** The device flow, driven by tests: approve, deny or slow down a user code. */
  readonly device: DeviceControl;
  /** Self-client flow: a one-time grant code. Throws ZohoThrottleError over grantsPer10Min. */
  issueGrantToken(options?: IssueGrantOptions): string;
  addClient(client: EmulatorClientConfig): void;
  addUser(user: EmulatorUserConfig): EmulatorUser;
  resetCounters(): void;
  /** Revokes a refresh token and its access tokens; false if unknown. */
  revokeRefreshToken(refreshToken: string): boolean;
  /** Makes every issued access token invalid (API calls then get 401). Returns how many. */
  expireAccessTokens(): number;
  /** Makes one access token invalid; false if unknown. */
  invalidateAccessToken(accessToken: string): boolean;
  /** The key of a refresh token in `counters.refreshesByToken`. */
  handleOf(refreshToken: string): string;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ZTokenError('CONFIG', 'INVALID_OPTION', `Emulator port must be 0..65535, got ${String(port)}`);
  }
  const host = options.host ?? '127.0.0.1';
  const latencyMs = options.latencyMs ?? 0;
  if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new ZTokenError('CONFIG', 'INVALID_OPTION', `Emulator latencyMs must be >= 0, got ${String(latencyMs)}`);
  }
  const tokenErrorStatus = options.tokenErrorStatus ?? 200;
  if (tokenErrorStatus !== 200 && tokenErrorStatus !== 400) {
    throw new ZTokenError('CONFIG', 'INVALID_OPTION', `Emulator tokenErrorStatus must be 200 or 400, got ${String(tokenErrorStatus)}`);
  }
  const clock = createClock(options.startTime ?? Date.now());
  const state = new EmulatorState(clock, options.limits);
  for (const client of options.clients ?? [DEFAULT_CLIENT]) state.addClient(client);
  for (const user of options.users ?? DEFAULT_USERS) state.addUser(user);

  const dataCenter = parseDataCenter(options.dataCenter ?? 'US');
  const environment = parseEnvironment(options.environment ?? 'production');
  const serverInfo = Object.fromEntries(DATA_CENTERS.map((dc) => [dc, accountsUrlFor(dc)])) as Record<DataCenter, string>;
  for (const [dc, accounts] of Object.entries(options.serverInfo ?? {})) serverInfo[parseDataCenter(dc)] = String(accounts);
  const devices = new DeviceRegistry(state);
  const ctx = { state, url: '', tokenErrorStatus, latencyMs, dataCenter, serverInfo, devices };
  const server = createEmulatorServer(ctx);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new ZTokenError('EMULATOR', 'LISTEN_FAILED', `The Zoho emulator cannot listen on ${host}:${port}: ${err.code ?? err.message}`, {
          cause: err,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  ctx.url = url;
  serverInfo[dataCenter] = options.serverInfo?.[dataCenter] ?? url;
  state.apiDomain = url;

  let closing: Promise<void> | null = null;
  return {
    url,
    accountsUrl: url,
    apiDomain: url,
    port: actualPort,
    dataCenter,
    environment,
    clock,
    limits: state.limits,
    device: devices,
    get counters() {
      return state.counters;
    },
    issueGrantToken: (opts) => state.issueGrant(opts),
    addClient: (client) => state.addClient(client),
    addUser: (user) => state.addUser(user),
    resetCounters: () => state.resetCounters(),
    revokeRefreshToken: (rt) => state.revokeRefreshToken(rt),
    expireAccessTokens: () => state.expireAccessTokens(),
    invalidateAccessToken: (at) => state.invalidateAccessToken(at),
    handleOf: (rt) => refreshTokenHandle(rt),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
