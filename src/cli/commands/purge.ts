/**
 * `ztoken purge --expired | --older-than 30d`: deletes tokens by expiry time, printing how many
 * (and which) before and after; `--dry-run` only shows them.
 */
import { type Command, Option } from 'commander';
import { describeStoreUrl } from '../../stores/url.js';
import { isExpired, type StoredToken } from '../../token.js';
import { addDebugOption, addExamples, addStoreOption, type CliRuntime, openCliStore, type StoreFlags, storeUrlOf } from '../context.js';
import { UsageError } from '../errors.js';
import { expiryPainter, formatDuration, parseDuration, TOKEN_TABLE_HEAD, tokenRow } from '../token-view.js';

interface PurgeFlags extends StoreFlags {
  expired?: boolean;
  olderThan?: number;
  dryRun?: boolean;
}

/** Which tokens a purge removes: expired now, or expired longer ago than `olderThan` ms. */
export function selectForPurge(tokens: StoredToken[], flags: PurgeFlags, now: number): StoredToken[] {
  if (flags.olderThan !== undefined) {
    const cutoff = now - flags.olderThan;
    // A token without an expiry time has no age to judge: --older-than keeps it.
    return tokens.filter((token) => token.expiryTime !== undefined && token.expiryTime < cutoff);
  }
  return tokens.filter((token) => isExpired(token, now));
}

export function registerPurge(program: Command, cli: CliRuntime): void {
  const command = program
    .command('purge')
    .description('delete tokens by expiry: every expired one, or those expired longer ago than a duration')
    .addOption(new Option('--expired', 'tokens whose access token has expired (or that have none)').conflicts('olderThan'))
    .addOption(
      new Option('--older-than <duration>', 'tokens that expired longer ago than this: 30d, 12h, 90m, 2w').argParser(parseDuration),
    )
    .option('--dry-run', 'show what would be deleted, delete nothing');
  addStoreOption(command);
  addDebugOption(command);
  command.addHelpText(
    'after',
    '\nNote: an expired access token with a refresh token is still usable (a refresh revives it);\n--expired removes it anyway. --older-than keeps tokens that have no expiry time.',
  );
  addExamples(command, ['ztoken purge --older-than 30d --dry-run', 'ztoken purge --older-than 30d', 'ztoken purge --expired']);
  command.action(async (opts: PurgeFlags) => {
    if (!opts.expired && opts.olderThan === undefined) {
      throw new UsageError('purge needs --expired or --older-than DURATION (e.g. --older-than 30d)');
    }
    const url = storeUrlOf(opts);
    const shown = describeStoreUrl(url);
    const store = await openCliStore(cli, url, { access: 'read' });
    const now = Date.now();
    const selected = selectForPurge(await store.getTokens(), opts, now);
    const { out } = cli;
    const what = opts.olderThan !== undefined ? `that expired more than ${formatDuration(opts.olderThan)} ago` : 'that have expired';
    if (selected.length === 0) {
      out.line(`No tokens ${what} in ${shown}; nothing to delete.`);
      return;
    }
    out.line(
      out.table(
        TOKEN_TABLE_HEAD,
        selected.map((token) => tokenRow(token, now, expiryPainter(out.c))),
      ),
    );
    const ids = selected.map((token) => token.id).join(', ');
    const count = `${selected.length} token${selected.length === 1 ? '' : 's'}`;
    if (opts.dryRun) {
      out.line(`Dry run: would delete ${count} ${what} from ${shown} (ids ${ids}).`);
      return;
    }
    let deleted = 0;
    for (const token of selected) {
      await store.deleteToken(token.id);
      deleted++;
    }
    out.line(out.ok(`Deleted ${deleted} of ${count} ${what} from ${shown} (ids ${ids}).`));
  });
}
