/**
 * `ztoken doctor`: checks a store and its tokens and explains each problem in plain words, with
 * a fix as a command. Exit 1 when any finding is an error; warnings alone exit 0.
 */
import { type Command, Option } from 'commander';
import { checkClockSkew } from '../../doctor/clock-skew.js';
import { type Finding, findingsOk } from '../../doctor/findings.js';
import { runDoctor } from '../../doctor/run.js';
import { describeStoreUrl, isEncryptedStoreUrl } from '../../stores/url.js';
import {
  addDebugOption,
  addExamples,
  addStoreOption,
  type CliRuntime,
  cliHosts,
  openCliStore,
  type StoreFlags,
  storeUrlOf,
} from '../context.js';
import { describeError, EXIT_FAILURE } from '../errors.js';

export function registerDoctor(program: Command, cli: CliRuntime): void {
  const command = program
    .command('doctor')
    .description('check a store and its tokens, explain each problem and give the command that fixes it (exit 1 on any error)')
    .option('--json', 'print { ok, findings: [{ check, level, tokenId?, message, fix? }] }')
    .option('--online', 'also make one API call per token with its access token (never refreshes; expired ones are skipped)')
    .addOption(new Option('--dc <code>', 'Zoho data center whose accounts server the clock is compared with (default US)').env('ZOHO_DC'))
    .addOption(
      new Option('--accounts-url <url>', 'accounts server to compare the clock with, overrides --dc (e.g. the emulator url)').env(
        'ZOHO_ACCOUNTS_URL',
      ),
    );
  addStoreOption(command);
  addDebugOption(command);
  addExamples(command, ['ztoken doctor', 'ztoken doctor --json --store sqlite:///var/lib/app/tokens.db']);
  command.action(async (opts: StoreFlags & { json?: boolean; online?: boolean; dc?: string; accountsUrl?: string }) => {
    const url = storeUrlOf(opts);
    const findings: Finding[] = [];
    const hosts = cliHosts(cli, opts);
    try {
      const store = await openCliStore(cli, url, { access: 'read' });
      findings.push({ check: 'store', level: 'ok', message: `reachable: ${describeStoreUrl(url)}` });
      try {
        findings.push(
          ...(await runDoctor(store, { hosts, online: opts.online === true, keysLoaded: isEncryptedStoreUrl(url), login: 'ztoken login' })),
        );
      } catch (error) {
        // An encrypted store whose rows do not decrypt with the loaded keys fails its reads here.
        findings.push({
          check: 'encryption',
          level: 'error',
          message: `reading the tokens failed: ${describeError(error).message}`,
          fix: 'set ZTOKEN_KEYS (or --key-file PATH) to the keys the store was written with',
        });
      }
    } catch (error) {
      findings.push({
        check: 'store',
        level: 'error',
        message: describeError(error).message,
        fix: `ztoken verify --store ${describeStoreUrl(url)}`,
      });
    }
    findings.push(await checkClockSkew(hosts.accountsUrlOf(hosts.dataCenter)));
    const ok = findingsOk(findings);
    if (!ok) cli.exitCode = EXIT_FAILURE;
    const { out } = cli;
    if (opts.json) {
      out.json({ ok, findings });
      return;
    }
    for (const f of findings) {
      const mark = f.level === 'ok' ? out.ok('ok') : f.level === 'error' ? out.fail('error') : 'warning';
      out.line(`${mark} ${f.check}: ${f.message}`);
      if (f.fix) out.line(`    fix: ${f.fix}`);
    }
    out.line(ok ? 'No errors found.' : 'Errors found: see the fixes above.');
  });
}
