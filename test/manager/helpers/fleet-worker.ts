/**
 * One process of a token-manager fleet (fleet tests and the fleet benchmark). The parent owns the
 * Zoho emulator; this child opens the shared store it is told to `use` (by URL) and runs two
 * TokenManagers on it, one coordinating refreshes through the store's lock and one not
 * (`coordinate: false`). One fleet can serve several stores in turn (spawning is the slow part).
 *
 * Clock: the emulator's clock is the real clock plus an offset that only the parent changes
 * (`clock.advance`), so every command carries `offset` (emulated now - Date.now(), computed by the
 * parent on the same machine) and the managers read `now = Date.now() + offset`.
 *
 * Protocol: argv[2] is the JSON `FleetWorkerConfig`; commands arrive on stdin and replies leave on
 * stdout, one JSON object a line (see fleet-protocol.ts). Commands run concurrently, so a `go`
 * really starts all callers at once.
 */
import { createInterface } from 'node:readline';
import { ZohoThrottleError } from '../../../src/errors.js';
import { TokenManager } from '../../../src/manager/token-manager.js';
import type { TokenStore } from '../../../src/store.js';
import { openStore } from '../../../src/stores/url.js';
import type { FleetCommand, FleetMode, FleetReply, FleetWorkerConfig } from './fleet-protocol.js';

const config = JSON.parse(process.argv[2] ?? '{}') as FleetWorkerConfig;
let offset = 0;
const now = () => Date.now() + offset;
const send = (reply: FleetReply) => process.stdout.write(`${JSON.stringify(reply)}\n`);

let store: TokenStore | undefined;
let refreshes = { coordinated: 0, uncoordinated: 0 };
let managers: Record<FleetMode, TokenManager> | undefined;

/** Switches the process to another shared store (so one fleet serves every store in turn). */
async function use(storeUrl: string | null): Promise<void> {
  await store?.close();
  store = undefined;
  managers = undefined;
  if (storeUrl === null) return;
  const opened = await openStore(storeUrl);
  store = opened;
  refreshes = { coordinated: 0, uncoordinated: 0 };
  managers = { coordinated: makeManager(opened, true), uncoordinated: makeManager(opened, false) };
}

function current(): { store: TokenStore; managers: Record<FleetMode, TokenManager> } {
  if (!store || !managers) throw new Error('no store yet: send a use command first');
  return { store, managers };
}

function makeManager(store: TokenStore, coordinate: boolean): TokenManager {
  const manager = new TokenManager({
    store,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    accountsUrl: config.accountsUrl,
    ...(config.dataCenterUrls ? { dataCenterUrls: config.dataCenterUrls } : {}),
    now,
    lockTtlMs: config.lockTtlMs,
    coordinate,
    resolveUserName: false,
  });
  manager.on('refresh', () => refreshes[coordinate ? 'coordinated' : 'uncoordinated']++);
  return manager;
}

/** `n` callers at once; what each got, as access token -> how many callers got it. */
async function getMany(manager: TokenManager, n: number, userName = config.userName) {
  const tokens: Record<string, number> = {};
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: n }, () =>
      manager.getAccessToken({ userName }).then(
        (token) => {
          tokens[token] = (tokens[token] ?? 0) + 1;
        },
        (error: Error) => void failures.push(`${error.name}: ${error.message}`),
      ),
    ),
  );
  return { tokens, failures };
}

/** `n` API calls at once; a call fails when it throws or its answer is not a 2xx with records. */
async function fetchMany(manager: TokenManager, n: number) {
  let succeeded = 0;
  let throttled = 0;
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: n }, async () => {
      try {
        const response = await manager.fetch({ userName: config.userName }, '/crm/v8/Leads');
        const body = (await response.json()) as { data?: unknown[] };
        if (response.ok && Array.isArray(body.data)) succeeded++;
        else failures.push(`HTTP ${response.status}: ${JSON.stringify(body).slice(0, 120)}`);
      } catch (error) {
        if (error instanceof ZohoThrottleError) throttled++;
        failures.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
    }),
  );
  return { succeeded, throttled, failures: failures.slice(0, 5), failed: failures.length };
}

async function handle(command: FleetCommand): Promise<void> {
  if ('offset' in command && typeof command.offset === 'number') offset = command.offset;
  const seq = command.seq;
  try {
    switch (command.cmd) {
      case 'use':
        await use(command.storeUrl);
        send({ seq, ok: true });
        return;
      case 'get': {
        const result = await getMany(current().managers[command.mode], command.callers, command.userName);
        send({ seq, ok: true, ...result, refreshes: { ...refreshes } });
        return;
      }
      case 'fetch': {
        const result = await fetchMany(current().managers[command.mode], command.calls);
        send({ seq, ok: true, ...result, refreshes: { ...refreshes } });
        return;
      }
      case 'hold': {
        // Takes the lock a refresh would take, says so, and never lets go: the parent kills us.
        await current().store.withLock!(command.key, command.ttlMs, () => {
          send({ seq, ok: true, lockedAt: Date.now() });
          return new Promise<never>(() => undefined);
        });
        return;
      }
      case 'exit':
        await store?.close();
        send({ seq, ok: true });
        process.exit(0);
    }
  } catch (error) {
    send({ seq, ok: false, error: `${(error as Error).name}: ${(error as Error).message}` });
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== '') void handle(JSON.parse(line) as FleetCommand);
});
// The parent is gone (or closed our stdin): nothing more will come.
process.stdin.on('end', () => process.exit(0));
send({ seq: 0, ok: true, pid: process.pid });
