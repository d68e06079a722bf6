/**
 * `ztoken migrate --from URL --to URL`: copies every token by Zoho's matching rules (no duplicates
 * in a non-empty target, safe to rerun), shows progress, then checks that every source token can
 * be found in the target. Ctrl-C stops between two saves (each save is atomic), says how far it
 * got, and exits 130; rerunning finishes the job.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { describeStoreUrl } from '../../stores/url.js';
import { sameTokenContent } from '../../token.js';
import { addDebugOption, addExamples, addKeyFileOption, type CliRuntime, openCliStore } from '../context.js';
import { CliError, EXIT_INTERRUPTED, UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { type CopyOutcome, TokenCopier } from '../token-copy.js';
import { describeToken } from './shared.js';

interface MigrateFlags {
  from: string;
  to: string;
}

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

export function registerMigrate(program: Command, cli: CliRuntime): void {
  const command = program
    .command('migrate')
    .description('copy every token from one store to another by the matching rules; safe to rerun, counts verified')
    .requiredOption('--from <url>', 'source store URL')
    .requiredOption('--to <url>', 'target store URL');
  addKeyFileOption(command);
  addDebugOption(command);
  command.addHelpText(
    'after',
    '\nA token the target already holds (same user name, or same grant/refresh token for the client) is\nupdated, not duplicated; new rows keep their source id when it is free. Ctrl-C stops cleanly.\n' +
      'A URL with ?encrypt=1 is read or written encrypted with the keys of --key-file (or ZTOKEN_KEYS):\nmigrating into one encrypts every token as it is copied.',
  );
  addExamples(command, [
    'ztoken migrate --from file:./sdk_tokens.txt --to sqlite:./zohooauth.db',
    'ztoken migrate --from mysql://root@localhost:3306/zohooauth --to postgres://app@db:5432/crm',
    'ztoken migrate --from sqlite:./zohooauth.db --to "sqlite:./encrypted.db?encrypt=1" --key-file ./ztoken.keys',
  ]);
  command.action(async (opts: MigrateFlags) => {
    if (opts.from.trim() === opts.to.trim()) throw new UsageError('--from and --to name the same store');
    const { out } = cli;
    const from = describeStoreUrl(opts.from);
    const to = describeStoreUrl(opts.to);
    const source = await openCliStore(cli, opts.from, { access: 'use' });
    const target = await openCliStore(cli, opts.to, { access: 'write' });
    const tokens = await source.getTokens();
    const interrupt = interruptSwitch(out);
    cli.onCleanup(() => interrupt.dispose());
    out.line(`Migrating ${plural(tokens.length, 'token')} from ${from} to ${to}`);

    const copier = new TokenCopier(target);
    const counts: Record<CopyOutcome, number> = { inserted: 0, renumbered: 0, updated: 0, unchanged: 0, deferred: 0 };
    const progress = progressFor(out, tokens.length, 'copied');
    let done = 0;
    const breathe = eventLoopBreather();
    // Tokens whose id the target uses for another token get a new id, after all the others.
    const deferred: typeof tokens = [];
    try {
      for (const [pass, list, renumber] of [
        [1, tokens, false],
        [2, deferred, true],
      ] as const) {
        for (const token of list) {
          await breathe();
          if (interrupt.requested) break;
          const outcome = await copier.copy(token, { renumber });
          if (outcome === 'deferred' && pass === 1) {
            deferred.push(token);
            continue;
          }
          counts[outcome]++;
          progress.update(++done);
        }
      }
    } finally {
      progress.stop();
    }
    const summary = `${counts.inserted + counts.renumbered} new (${counts.renumbered} with a new id), ${counts.updated} updated, ${counts.unchanged} already there`;
    if (interrupt.requested) {
      out.line(out.c.yellow(`Interrupted: ${done} of ${tokens.length} tokens copied (${summary}); every saved token is complete.`));
      out.line('Run the same command again to finish: tokens already copied are recognised, not duplicated.');
      cli.exitCode = EXIT_INTERRUPTED;
      return;
    }
    out.line(out.ok(`Copied ${plural(tokens.length, 'token')}: ${summary}`));

    // Verification: every source token must be findable in the target, with the same values.
    const problems: string[] = [];
    const check = progressFor(out, tokens.length, 'verified');
    let checked = 0;
    try {
      for (const token of tokens) {
        await breathe();
        if (interrupt.requested) break;
        const copy = await copier.findCopy(token);
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
    const targetCount = (await target.getTokens()).length;
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
  });
}
