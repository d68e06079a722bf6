/**
 * `ztoken migrate --from URL --to URL`: copies every token by Zoho's matching rules (no duplicates
 * in a non-empty target, safe to rerun), shows progress, then checks that every source token can
 * be found in the target. Ctrl-C stops between two saves (each save is atomic), says how far it
 * got, and exits 130; rerunning finishes the job.
 *
 * Into an empty store that can insert in bulk (SQLite, MySQL, PostgreSQL: BulkInsertStore), the
 * copy is first played against an in-memory image of the target (a MemoryStore, same rules), and
 * the image's tokens are inserted in transactions of BULK_BATCH: the same rows as one save per
 * token, in seconds for 100,000 tokens. `--dry-run` plays it against an image of the target as it
 * is and reports what would change, writing nothing.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { TokenStoreError } from '../../errors.js';
import { supportsBulkInsert, type TokenStore } from '../../store.js';
import { MemoryStore } from '../../stores/memory.js';
import { describeStoreUrl } from '../../stores/url.js';
import { MAX_LAYOUT_ID_LENGTH, type StoredToken, sameTokenContent, TOKEN_FIELDS } from '../../token.js';
import { addDebugOption, addExamples, addKeyFileOption, type CliRuntime, openCliStore } from '../context.js';
import { CliError, EXIT_INTERRUPTED, UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { type CopyOutcome, storeHoldsId, TokenCopier } from '../token-copy.js';
import { describeToken } from './shared.js';

interface MigrateFlags {
  from: string;
  to: string;
  dryRun?: boolean;
  bulk: boolean;
}

/** Tokens per bulk transaction: Ctrl-C stops between two of them. */
const BULK_BATCH = 1_000;
/** Tokens a dry run lists by id, per kind of change. */
const DRY_RUN_LISTED = 50;

/** Progress as a bar on a terminal, as a line every tenth of the way otherwise. */
interface Progress {
  update(done: number): void;
  stop(): void;
}

function progressFor(out: Output, total: number, label: string): Progress {
  if (out.stderr.isTTY && total > 0) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} |{bar}| {value}/{total} tokens`,
        stream: out.stderr as NodeJS.WriteStream,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  const step = Math.max(1, Math.ceil(total / 10));
  return {
    update: (done) => {
      if (done % step === 0 || done === total) out.note(`${label}: ${done}/${total}`);
    },
    stop: () => undefined,
  };
}

/** Ctrl-C asks to stop between two saves; a second Ctrl-C exits at once (saves are atomic). */
function interruptSwitch(out: Output): { readonly requested: boolean; dispose(): void } {
  let requested = false;
  const onSignal = () => {
    if (requested) process.exit(EXIT_INTERRUPTED);
    requested = true;
    out.note('Stopping after the current token (Ctrl-C again to stop at once)…');
  };
  process.on('SIGINT', onSignal);
  return {
    get requested() {
      return requested;
    },
    dispose: () => process.off('SIGINT', onSignal),
  };
}

/**
 * Lets signal handlers run: a synchronous store (SQLite, memory) resolves every await at once,
 * so a copy loop would never reach the event loop, and Ctrl-C would wait for the very end.
 */
function eventLoopBreather(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < 10) return;
    await nextTurn();
    last = performance.now();
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

type Counts = Record<CopyOutcome, number>;
const noCounts = (): Counts => ({ inserted: 0, renumbered: 0, updated: 0, unchanged: 0, deferred: 0 });

/**
 * Copies every token with `copier` (tokens whose id the target uses for another token last, with
 * a new id), stopping early when `stop()` says so; `onCopied` hears each token and its outcome.
 */
async function copyAll(
  copier: TokenCopier,
  tokens: readonly StoredToken[],
  hooks: { stop(): boolean; breathe(): Promise<void>; onCopied(token: StoredToken, outcome: CopyOutcome): void },
): Promise<Counts> {
  const counts = noCounts();
  const deferred: StoredToken[] = [];
  for (const [pass, list, renumber] of [
    [1, tokens, false],
    [2, deferred, true],
  ] as const) {
    for (const token of list) {
      await hooks.breathe();
      if (hooks.stop()) return counts;
      const outcome = await copier.copy(token, { renumber });
      if (outcome === 'deferred' && pass === 1) {
        deferred.push(token);
        continue;
      }
      counts[outcome]++;
      hooks.onCopied(token, outcome);
    }
  }
  return counts;
}

/**
 * An in-memory image of a target holding `tokens` (same matching rules as every store). It holds
 * ids as wide as any layout's; which ids the real target holds is asked of the target itself.
 */
async function imageOf(tokens: readonly StoredToken[]): Promise<MemoryStore> {
  const image = new MemoryStore({ maxIdLength: MAX_LAYOUT_ID_LENGTH });
  for (const token of tokens) await image.saveToken(token);
  return image;
}

/**
 * The copy played against an image of the target: its counts, each source token's outcome, and
 * the image after. `target` answers which ids it holds; a target that does not exist yet is
 * taken to hold what a new store of the default layout holds (ids of up to 10 characters).
 */
async function planCopy(tokens: readonly StoredToken[], targetTokens: readonly StoredToken[], target: TokenStore | null) {
  const image = await imageOf(targetTokens);
  const outcomes = new Map<StoredToken, CopyOutcome>();
  const idJudge = target ?? new MemoryStore();
  const copier = new TokenCopier(image, { holdsId: (id) => storeHoldsId(idJudge, id) });
  const counts = await copyAll(copier, tokens, {
    stop: () => false,
    breathe: async () => undefined,
    onCopied: (token, outcome) => outcomes.set(token, outcome),
  });
  return { counts, outcomes, image };
}

function summaryOf(counts: Counts): string {
  return `${counts.inserted + counts.renumbered} new (${counts.renumbered} with a new id), ${counts.updated} updated, ${counts.unchanged} already there`;
}

/** The fields whose values differ between two tokens (names only: values may be secrets). */
function changedFields(before: StoredToken, after: StoredToken): string[] {
  return TOKEN_FIELDS.filter((field) => field !== 'id' && before[field] !== after[field]);
}

/** The target for a dry run: opened to read only; a store that does not exist yet is an empty one. */
async function openDryRunTarget(cli: CliRuntime, url: string): Promise<TokenStore | null> {
  try {
    return await openCliStore(cli, url, { access: 'use' });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    if (error instanceof CliError && cause instanceof TokenStoreError && cause.reason === 'NOT_FOUND') return null;
    throw error;
  }
}

async function reportDryRun(out: Output, tokens: readonly StoredToken[], target: TokenStore | null, to: string): Promise<void> {
  const before = target ? await target.getTokens() : [];
  const { counts, outcomes, image } = await planCopy(tokens, before, target);
  const byId = new Map(before.map((token) => [token.id, token]));
  const finder = new TokenCopier(image);
  const lines: Record<'new' | 'updated', string[]> = { new: [], updated: [] };
  for (const token of tokens) {
    const outcome = outcomes.get(token);
    const copy = await finder.findCopy(token);
    if (!copy || outcome === undefined || outcome === 'unchanged' || outcome === 'deferred') continue;
    if (outcome === 'updated') {
      const old = byId.get(copy.id);
      const fields = old ? changedFields(old, copy).join(', ') : 'every field';
      lines.updated.push(`  updated  ${describeToken(copy)} from source ${describeToken(token)}: ${fields}`);
    } else {
      const why = byId.has(token.id) ? 'is taken in the target' : 'does not fit the target';
      const renumbered = outcome === 'renumbered' ? ` (id ${token.id} ${why})` : '';
      lines.new.push(`  new      ${describeToken(copy)} from source ${describeToken(token)}${renumbered}`);
    }
  }
  const after = (await image.getTokens()).length;
  out.line(`Would copy ${plural(tokens.length, 'token')}: ${summaryOf(counts)}; ${to} would hold ${plural(after, 'token')}.`);
  for (const kind of ['new', 'updated'] as const) {
    for (const line of lines[kind].slice(0, DRY_RUN_LISTED)) out.line(line);
    if (lines[kind].length > DRY_RUN_LISTED) out.line(`  …and ${lines[kind].length - DRY_RUN_LISTED} more ${kind}`);
  }
  out.line(out.c.dim(`Dry run: nothing was written${target ? '' : ' (the target does not exist yet; nothing was created)'}.`));
}

/**
 * The bulk path (see the header): null when the target cannot take it (no bulk insert, not
 * empty, or another writer changed it meanwhile: then the caller copies one token at a time).
 */
async function bulkCopy(
  out: Output,
  target: TokenStore,
  tokens: readonly StoredToken[],
  interrupt: { readonly requested: boolean },
): Promise<{ counts: Counts; image: MemoryStore; written: number } | null> {
  if (!supportsBulkInsert(target) || (await target.getTokens()).length > 0) return null;
  const { counts, image } = await planCopy(tokens, [], target);
  const rows = await image.getTokens();
  const progress = progressFor(out, rows.length, 'copied');
  let written = 0;
  try {
    for (let start = 0; start < rows.length; start += BULK_BATCH) {
      await nextTurn(); // lets Ctrl-C be heard between two transactions
      if (interrupt.requested) break;
      const batch = rows.slice(start, start + BULK_BATCH);
      if (!(await target.bulkInsert(batch, written))) {
        if (written === 0) return null;
        out.note(`Another writer changed the target after ${written} tokens: copying the rest one at a time.`);
        return null;
      }
      written += batch.length;
      progress.update(written);
    }
  } finally {
    progress.stop();
  }
  return { counts, image, written };
}

export function registerMigrate(program: Command, cli: CliRuntime): void {
  const command = program
    .command('migrate')
    .description('copy every token from one store to another by the matching rules; safe to rerun, counts verified')
    .requiredOption('--from <url>', 'source store URL')
    .requiredOption('--to <url>', 'target store URL')
    .option('--dry-run', 'report what would change (new, updated and unchanged tokens, by id) and write nothing')
    .option('--no-bulk', 'save one token at a time even into an empty SQLite, MySQL or PostgreSQL store');
  addKeyFileOption(command);
  addDebugOption(command);
  command.addHelpText(
    'after',
    '\nA token the target already holds (same user name, or same grant/refresh token for the client) is\nupdated, not duplicated; new rows keep their source id when it is free. Ctrl-C stops cleanly.\n' +
      'Into an empty SQLite, MySQL or PostgreSQL store the tokens are inserted in bulk (1,000 per transaction).\n' +
      'A URL with ?encrypt=1 is read or written encrypted with the keys of --key-file (or ZTOKEN_KEYS):\nmigrating into one encrypts every token as it is copied.',
  );
  addExamples(command, [
    'ztoken migrate --from file:./sdk_tokens.txt --to sqlite:./zohooauth.db',
    'ztoken migrate --from mysql://root@localhost:3306/zohooauth --to postgres://app@db:5432/crm --dry-run',
    'ztoken migrate --from sqlite:./zohooauth.db --to "sqlite:./encrypted.db?encrypt=1" --key-file ./ztoken.keys',
  ]);
  command.action(async (opts: MigrateFlags) => {
    if (opts.from.trim() === opts.to.trim()) throw new UsageError('--from and --to name the same store');
    const { out } = cli;
    const from = describeStoreUrl(opts.from);
    const to = describeStoreUrl(opts.to);
    const source = await openCliStore(cli, opts.from, { access: 'use' });
    if (opts.dryRun) {
      const target = await openDryRunTarget(cli, opts.to);
      const tokens = await source.getTokens();
      out.line(`Dry run: migrating ${plural(tokens.length, 'token')} from ${from} to ${to}`);
      await reportDryRun(out, tokens, target, to);
      return;
    }
    const target = await openCliStore(cli, opts.to, { access: 'write' });
    const tokens = await source.getTokens();
    const interrupt = interruptSwitch(out);
    cli.onCleanup(() => interrupt.dispose());
    out.line(`Migrating ${plural(tokens.length, 'token')} from ${from} to ${to}`);

    const copier = new TokenCopier(target);
    const breathe = eventLoopBreather();
    const started = performance.now();
    const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
    const bulk = opts.bulk ? await bulkCopy(out, target, tokens, interrupt) : null;
    let counts: Counts;
    let done: number;
    if (bulk) {
      counts = bulk.counts;
      done = bulk.written;
      if (interrupt.requested) {
        out.line(
          out.c.yellow(
            `Interrupted: ${done} of ${tokens.length} tokens copied (in bulk, ${BULK_BATCH} per transaction); every saved token is complete.`,
          ),
        );
        out.line('Run the same command again to finish: tokens already copied are recognised, not duplicated.');
        cli.exitCode = EXIT_INTERRUPTED;
        return;
      }
    } else {
      const progress = progressFor(out, tokens.length, 'copied');
      done = 0;
      try {
        counts = await copyAll(copier, tokens, {
          stop: () => interrupt.requested,
          breathe,
          onCopied: () => progress.update(++done),
        });
      } finally {
        progress.stop();
      }
      if (interrupt.requested) {
        out.line(
          out.c.yellow(`Interrupted: ${done} of ${tokens.length} tokens copied (${summaryOf(counts)}); every saved token is complete.`),
        );
        out.line('Run the same command again to finish: tokens already copied are recognised, not duplicated.');
        cli.exitCode = EXIT_INTERRUPTED;
        return;
      }
    }
    out.line(out.ok(`Copied ${plural(tokens.length, 'token')}: ${summaryOf(counts)}`));
    out.note(
      out.c.dim(`copied in ${seconds(started)}${bulk ? ` (in bulk, ${BULK_BATCH} tokens per transaction)` : ' (one save per token)'}`),
    );
    const verifying = performance.now();

    // Verification: every source token must be findable in the target, with the same values. After
    // a bulk copy the target is read back whole and must hold exactly the image's rows; the
    // lookups then run on the image (the same rules), not as one query per token.
    const problems: string[] = [];
    const targetTokens = await target.getTokens();
    let verifier = copier;
    if (bulk) {
      const expected = await bulk.image.getTokens();
      const same = expected.length === targetTokens.length && expected.every((t, i) => sameStored(t, targetTokens[i]));
      if (!same) problems.push(`the target holds ${targetTokens.length} tokens, not the ${expected.length} written (another writer?)`);
      verifier = new TokenCopier(await imageOf(targetTokens));
    }
    const check = progressFor(out, tokens.length, 'verified');
    let checked = 0;
    try {
      for (const token of tokens) {
        await breathe();
        if (interrupt.requested) break;
        const copy = await verifier.findCopy(token);
        if (!copy) problems.push(`${describeToken(token)}: not found in the target`);
        else if (!sameTokenContent(copy, token)) problems.push(`${describeToken(token)}: the target's token ${copy.id} holds other values`);
        check.update(++checked);
      }
    } finally {
      check.stop();
    }
    if (interrupt.requested) {
      out.line(out.c.yellow(`Interrupted during verification (${checked} of ${tokens.length} checked); the copy itself is complete.`));
      cli.exitCode = EXIT_INTERRUPTED;
      return;
    }
    const targetCount = targetTokens.length;
    if (problems.length > 0) {
      for (const problem of problems.slice(0, 10)) out.line(out.fail(problem));
      if (problems.length > 10) out.line(out.fail(`…and ${problems.length - 10} more`));
      throw new CliError(
        `Verification failed: ${problems.length} of ${tokens.length} source tokens are not in ${to} as they are in ${from}`,
        {
          hint: 'Tokens that Zoho’s matching rules treat as one (e.g. two rows with the same user name) end up as one row: the last one copied wins.',
        },
      );
    }
    const all = tokens.length === 1 ? 'the source token is' : `all ${tokens.length} source tokens are`;
    out.line(out.ok(`Verified: ${all} in the target, which now holds ${plural(targetCount, 'token')}`));
    out.note(out.c.dim(`verified in ${seconds(verifying)}`));
  });
}

/** The same id and the same values. */
function sameStored(a: StoredToken, b: StoredToken | undefined): boolean {
  return b !== undefined && a.id === b.id && sameTokenContent(a, b);
}
