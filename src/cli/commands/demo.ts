/**
 * `ztoken demo` (what `npm start` runs): the whole lifecycle on a real store and the embedded
 * Zoho emulator, narrated, in a few seconds. Unless --store names one, the store is a SQLite file
 * in a temporary folder, removed at the end: the emulator's client and tokens never land in the
 * user's real store, where a later `ztoken refresh` would send them to Zoho. Every figure it prints is measured, and it checks
 * what it claims: if a step does not behave (e.g. 100 calls cause more than one refresh), it
 * says so and exits 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { ZohoOAuthError } from '../../errors.js';
import { TokenManager } from '../../manager/token-manager.js';
import type { TokenStore } from '../../store.js';
import { DEFAULT_STORE_URL, describeStoreUrl } from '../../stores/url.js';
import { redact, type StoredToken } from '../../token.js';
import { DEFAULT_CLIENT, type Emulator, type EmulatorCounters, startEmulator } from '../../zoho/emulator/index.js';
import { cliCommand } from '../cli-command.js';
import { addDebugOption, addExamples, type CliRuntime, openCliStore } from '../context.js';
import { EXIT_FAILURE } from '../errors.js';
import type { Output } from '../output.js';
import { expiryPainter, expiryStatus, TOKEN_TABLE_HEAD, tokenRow } from '../token-view.js';

const USERS = ['alice@zylker.com', 'bob@zylker.com'] as const;
const EU_USER = { email: 'eva@zylker.eu', zgid: '800555111', name: 'Eva Zylker' };
const CONCURRENT_CALLS = 100;
const HOUR_AND_A_MINUTE = 61 * 60_000;

/** Where a store URL keeps its data, in words for the reader. */
export function storeLocation(url: string): string {
  const match = /^sqlite:(.*?)(\?.*)?$/i.exec(url);
  if (match) {
    const body = match[1] ?? '';
    if (body === ':memory:') return 'in memory: gone when the demo ends';
    const path = body.startsWith('//') ? body.slice(2) : body;
    return `file ${resolve(decodeURIComponent(path))}`;
  }
  const file = /^file:(?:\/\/)?(.*?)(\?.*)?$/i.exec(url);
  if (file) return `file ${resolve(decodeURIComponent(file[1] ?? ''))}`;
  if (/^memory:/i.test(url)) return 'in memory: gone when the demo ends';
  return describeStoreUrl(url);
}

class Narrator {
  private readonly out: Output;
  private failures: string[] = [];
  constructor(out: Output) {
    this.out = out;
  }
  step(n: number, title: string): void {
    this.out.line();
    this.out.line(this.out.c.bold(this.out.c.cyan(`${n}. ${title}`)));
  }
  ok(text: string): void {
    this.out.line(`   ${this.out.ok(text)}`);
  }
  info(text: string): void {
    this.out.line(`   ${this.out.c.dim('•')} ${text}`);
  }
  /** Records a claim of the demo; a false one is shown in red and fails the run. */
  expect(condition: boolean, good: string, bad: string): void {
    if (condition) this.ok(good);
    else {
      this.failures.push(bad);
      this.out.line(`   ${this.out.fail(this.out.c.red(bad))}`);
    }
  }
  get failed(): readonly string[] {
    return this.failures;
  }
}

async function demoTokens(store: TokenStore): Promise<StoredToken[]> {
  return (await store.getTokens()).filter((token) => token.clientId === DEFAULT_CLIENT.clientId);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A SQLite file in a new temporary folder, removed when the command ends. */
function temporaryStore(cli: CliRuntime): string {
  const dir = mkdtempSync(join(tmpdir(), 'ztoken-demo-'));
  cli.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${join(dir, 'zohooauth.db')}`;
}

/** What the token endpoint was asked, every call named: the parts add up to the total. */
export function tokenEndpointCalls(counters: EmulatorCounters): string {
  const parts: string[] = [`${counters.grantExchanges} exchanges`, `${counters.refreshes} refreshes`];
  if (counters.throttled > 0) parts.push(`${counters.throttled} throttled`);
  let named = counters.grantExchanges + counters.refreshes + counters.throttled;
  for (const [reason, count] of Object.entries(counters.rejected)) {
    parts.push(`${count} refused as ${reason}${reason === 'invalid_code' ? " (Bob's revoked refresh token)" : ''}`);
    named += count;
  }
  if (counters.tokenRequests > named) parts.push(`${counters.tokenRequests - named} other`);
  return `${counters.tokenRequests} (${parts.join(', ')})`;
}

export async function runDemo(cli: CliRuntime, requestedStore: string | undefined): Promise<number> {
  const started = performance.now();
  const { out } = cli;
  const temporary = requestedStore === undefined;
  const storeUrl = requestedStore ?? temporaryStore(cli);
  const c = out.c;
  const say = new Narrator(out);
  out.addSecret(DEFAULT_CLIENT.clientSecret);

  out.line(`${c.bold('ztoken demo')}: the whole Zoho token lifecycle, on a real store and the embedded Zoho emulator`);
  const emulator: Emulator = await startEmulator();
  cli.onCleanup(() => emulator.close());
  // A multi-DC client: the same client registered in the EU, where one more user lives.
  const euEmulator: Emulator = await startEmulator({ dataCenter: 'EU', users: [EU_USER], startTime: emulator.clock.now() });
  cli.onCleanup(() => euEmulator.close());
  const store = await openCliStore(cli, storeUrl, { access: 'write', sayCreated: !temporary });
  out.line(`   Zoho emulator  ${emulator.url}  (US accounts server and CRM API, in this process)`);
  out.line(`   EU emulator    ${euEmulator.url}  (the EU data center of the same client)`);
  const where = temporary ? `a temporary file, removed when the demo ends; --store URL keeps it` : storeLocation(storeUrl);
  out.line(`   token store    ${describeStoreUrl(storeUrl)}  (${where})`);
  // Rerunning must work: the demo only ever touches tokens of the emulator's own client.
  const leftovers = await demoTokens(store);
  for (const token of leftovers) await store.deleteToken(token.id);
  if (leftovers.length > 0) out.line(c.dim(`   removed ${leftovers.length} token(s) left by an earlier demo run`));

  const manager = new TokenManager({
    store,
    clientId: DEFAULT_CLIENT.clientId,
    clientSecret: DEFAULT_CLIENT.clientSecret,
    dataCenter: 'US',
    dataCenterUrls: { US: { accountsUrl: emulator.accountsUrl }, EU: { accountsUrl: euEmulator.accountsUrl } },
    now: () => emulator.clock.now(),
    logger: cli.logger(),
  });
  const paint = expiryPainter(c);

  // 1. Two users authorize (grant tokens from the self-client flow).
  say.step(1, 'Authorize two users with grant tokens (Zoho self-client flow)');
  const names: string[] = [];
  for (const email of USERS) {
    const grant = emulator.issueGrantToken({ userEmail: email });
    const saved = await manager.authorize({ grantToken: grant });
    names.push(saved.userName ?? email);
    say.ok(
      `${saved.userName}  ${c.dim('token id')} ${saved.id}  ${c.dim('access')} ${redact(saved.accessToken)}  ${paint('valid', expiryStatus(saved, emulator.clock.now()).text)}`,
    );
  }
  const [alice = USERS[0], bob = USERS[1]] = names;
  say.info(`user names are email:zgid, read from the CRM API as the official SDKs do`);
  // Zoho's redirect says where the user lives (location=eu): exchange, refresh and API calls go there.
  const eva = await manager.authorize({ grantToken: euEmulator.issueGrantToken({ userEmail: EU_USER.email }), location: 'eu' });
  const evaOrg = await manager.fetch({ id: eva.id }, '/crm/v8/org');
  await evaOrg.arrayBuffer();
  say.expect(
    manager.locate(eva).dataCenter === 'EU' && euEmulator.counters.grantExchanges === 1 && evaOrg.status === 200,
    `${eva.userName} lives in the ${c.bold('EU')} data center: exchanged at the EU accounts server, CRM called at the EU API (HTTP ${evaOrg.status})`,
    `the EU user was not served by the EU emulator (exchanges ${euEmulator.counters.grantExchanges}, HTTP ${evaOrg.status})`,
  );

  // 2. An API call through the manager.
  say.step(2, 'Call CRM Leads as Alice (manager.fetch adds the Authorization header)');
  const leadsResponse = await manager.fetch({ userName: alice }, '/crm/v8/Leads?per_page=3');
  const leads = leadsResponse.ok
    ? (((await leadsResponse.json()) as { data?: { Full_Name?: string; Company?: string }[] }).data ?? [])
    : [];
  say.expect(
    leadsResponse.status === 200,
    `GET /crm/v8/Leads -> HTTP 200: ${leads.map((lead) => `${lead.Full_Name} (${lead.Company})`).join(', ')}`,
    `GET /crm/v8/Leads answered HTTP ${leadsResponse.status}`,
  );

  // 3. Time passes on the emulator's clock; the manager reads the same clock.
  say.step(3, "An hour passes (the emulator's clock jumps 61 minutes)");
  emulator.clock.advance(HOUR_AND_A_MINUTE);
  const aliceStored = await store.findToken({ userName: alice });
  say.info(
    `Alice's stored access token is now ${paint('expired', aliceStored ? expiryStatus(aliceStored, emulator.clock.now()).text : 'missing')}`,
  );

  // 4. A burst on the expired token: one refresh for all of them.
  say.step(4, `${CONCURRENT_CALLS} concurrent API calls on the expired token`);
  const refreshesBefore = emulator.counters.refreshes;
  const burstStart = performance.now();
  const burst = await Promise.all(
    Array.from({ length: CONCURRENT_CALLS }, async () => {
      const response = await manager.fetch({ userName: alice }, '/crm/v8/Leads?per_page=1');
      await response.arrayBuffer();
      return response.status;
    }),
  );
  const burstMs = performance.now() - burstStart;
  const refreshesAfter = emulator.counters.refreshes;
  const burstRefreshes = refreshesAfter - refreshesBefore;
  const burstOk = burst.filter((status) => status === 200).length;
  say.info(`emulator's refresh counter: ${refreshesBefore} before, ${refreshesAfter} after`);
  say.expect(
    burstOk === CONCURRENT_CALLS && burstRefreshes === 1,
    `${burstOk} x HTTP 200 in ${Math.round(burstMs)} ms with exactly ${c.bold('1 refresh')} (single flight, under the store's lock)`,
    `${burstOk} of ${CONCURRENT_CALLS} calls succeeded with ${burstRefreshes} refreshes (expected ${CONCURRENT_CALLS} and 1)`,
  );

  // 5. Zoho invalidates a live access token: one 401, one refresh, one retry.
  say.step(5, 'Zoho invalidates the access token: the next call gets 401 INVALID_TOKEN');
  const current = await manager.getToken({ userName: alice });
  emulator.invalidateAccessToken(current.accessToken ?? '');
  const before401 = emulator.counters;
  const recovered = await manager.fetch({ userName: alice }, '/crm/v8/Leads?per_page=1');
  await recovered.arrayBuffer();
  const after401 = emulator.counters;
  const recoveryRefreshes = after401.refreshes - before401.refreshes;
  const rejected = after401.apiRejected - before401.apiRejected;
  say.info(`the emulator refused ${rejected} call with 401; the manager refreshed and retried once`);
  say.expect(
    recovered.status === 200 && recoveryRefreshes === 1,
    `recovered: HTTP 200 after ${c.bold('1 refresh')}; new access token ${redact((await manager.getToken({ userName: alice })).accessToken)}`,
    `after the 401 the call answered HTTP ${recovered.status} with ${recoveryRefreshes} refreshes (expected 200 and 1)`,
  );

  // 6. What the store holds, as `ztoken list` shows it.
  say.step(6, 'The stored tokens (secrets are never shown whole)');
  const now = emulator.clock.now();
  const stored = await demoTokens(store);
  out.line(
    out
      .table(
        TOKEN_TABLE_HEAD,
        stored.map((token) => tokenRow(token, now, paint, manager.hosts)),
      )
      .split('\n')
      .map((line) => `   ${line}`)
      .join('\n'),
  );
  const moved = `${HOUR_AND_A_MINUTE / 60_000} minutes`;
  say.info(
    `times left are by the emulator's clock, which step 3 moved ${moved} ahead of this machine's` +
      (temporary ? '' : `: ${cliCommand()} list, on this machine's clock, shows ${moved} more left`),
  );

  // 7. Bob leaves: revoked at Zoho, then deleted locally.
  say.step(7, 'Revoke Bob: at Zoho first, then in the store');
  const bobToken = await store.findToken({ userName: bob });
  const revocationsBefore = emulator.counters.revocations;
  await manager.revoke({ userName: bob });
  const revocations = emulator.counters.revocations - revocationsBefore;
  const bobGone = (await store.findToken({ userName: bob })) === null;
  say.expect(
    revocations === 1 && bobGone,
    `revoked at Zoho (emulator revocations +${revocations}) and deleted from the store`,
    `revoke: ${revocations} revocations at Zoho, deleted locally: ${bobGone}`,
  );
  let refusedWith = '';
  try {
    if (bobToken?.refreshToken) await manager.accounts.refresh(bobToken.refreshToken);
  } catch (error) {
    refusedWith = error instanceof ZohoOAuthError ? error.zohoError : (error as Error).message;
  }
  say.expect(
    refusedWith === 'invalid_code',
    `Zoho now refuses Bob's old refresh token (${refusedWith})`,
    `Bob's old refresh token was not refused as expected (${refusedWith || 'it still works'})`,
  );
  await manager.settle(); // nothing may still be writing when the store closes
  const remaining = await demoTokens(store);

  // Summary
  const counters = emulator.counters;
  const total = performance.now() - started;
  out.line();
  out.line(c.bold('Summary (measured)'));
  const rows: [string, string][] = [
    ['users authorized', `${USERS.length + 1} (${USERS.length} in the US, 1 in the EU)`],
    [
      `${CONCURRENT_CALLS} concurrent calls on an expired token`,
      `${burstRefreshes} refresh, ${burstOk} x HTTP 200, ${Math.round(burstMs)} ms`,
    ],
    ['401 INVALID_TOKEN recovered', `${recoveryRefreshes} refresh, 1 retry, HTTP ${recovered.status}`],
    ['calls to the token endpoint', tokenEndpointCalls(counters)],
    ['revocations', String(counters.revocations)],
    ['CRM API calls', String(counters.apiCalls)],
    ['EU data center (Eva)', `token endpoint ${tokenEndpointCalls(euEmulator.counters)}, CRM API calls ${euEmulator.counters.apiCalls}`],
    ['revoked', `1 user (Bob); ${remaining.length} demo token${remaining.length === 1 ? '' : 's'} left in the store`],
    ['total time', seconds(total)],
  ];
  for (const [name, value] of rows) out.line(`   ${name.padEnd(42)} ${value}`);
  out.line();
  if (say.failed.length > 0) {
    out.line(c.red(`The demo found ${say.failed.length} problem(s): ${say.failed.join('; ')}`));
    return EXIT_FAILURE;
  }
  const location = storeLocation(storeUrl);
  const ztoken = cliCommand();
  if (temporary || location.startsWith('in memory')) {
    out.line(`The demo's store was ${temporary ? 'temporary and is removed' : 'in memory'}: nothing is left behind.`);
  } else {
    const storeFlag = storeUrl === DEFAULT_STORE_URL ? '' : ` --store ${describeStoreUrl(storeUrl)}`;
    out.line(`Alice's token stays in the ${location}: see it with ${c.bold(`${ztoken} list${storeFlag}`)}`);
    out.line(c.dim('(a new demo run first removes the tokens an earlier one left)'));
  }
  out.line(`Your own Zoho tokens: ${c.bold(`${ztoken} login`)} (all commands: ${c.bold(`${ztoken} --help`)})`);
  return 0;
}

export function registerDemo(program: Command, cli: CliRuntime): void {
  const command = program
    .command('demo')
    .description('run the whole token lifecycle against the embedded Zoho emulator, narrated (npm start)')
    .option('--store <url>', 'token store for the demo (default: a temporary SQLite file, removed at the end; ZTOKEN_STORE is ignored)');
  addDebugOption(command);
  addExamples(command, ['ztoken demo', 'ztoken demo --store sqlite::memory:', 'NO_COLOR=1 ztoken demo --store sqlite:/tmp/demo.db']);
  command.action(async (opts: { store?: string }) => {
    cli.exitCode = await runDemo(cli, opts.store);
  });
}
