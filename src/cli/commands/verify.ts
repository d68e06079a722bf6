/**
 * `ztoken verify`: proves a store works end to end with a sentinel token (write, read by user name
 * and by id, delete) and its lock (take, release), then says what works: ✓/✗, exit 1 on any ✗.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { supportsLocking, type TokenStore } from '../../store.js';
import { describeStoreUrl } from '../../stores/url.js';
import { type OAuthToken, type StoredToken, sameTokenContent } from '../../token.js';
import { addDebugOption, addExamples, addStoreOption, type CliRuntime, openCliStore, type StoreFlags, storeUrlOf } from '../context.js';
import { describeError, EXIT_FAILURE } from '../errors.js';

interface Check {
  name: string;
  /** Resolves to a detail to show (or null), or to `{ skipped }`; throws when the check fails. */
  run: () => Promise<string | null | { skipped: string }>;
}

function sentinel(): OAuthToken {
  const tag = randomBytes(6).toString('hex');
  return {
    userName: `ztoken-verify-${tag}`,
    clientId: `ztoken-verify-${tag}`,
    clientSecret: `verify-secret-${randomBytes(12).toString('hex')}`,
    refreshToken: `verify-refresh-${randomBytes(12).toString('hex')}`,
    accessToken: `verify-access-${randomBytes(12).toString('hex')}`,
    expiryTime: Date.now() + 60_000,
    apiDomain: 'https://www.zohoapis.com',
  };
}

function checksFor(store: TokenStore): Check[] {
  const token = sentinel();
  let saved: StoredToken | null = null;
  const needSaved = (): StoredToken => {
    if (!saved) throw new Error('skipped: the write failed');
    return saved;
  };
  return [
    {
      name: 'write a sentinel token',
      run: async () => {
        saved = await store.saveToken(token);
        return `id ${saved.id}`;
      },
    },
    {
      name: 'read it back by user name',
      run: async () => {
        const found = await store.findToken({ userName: token.userName });
        if (!found || !sameTokenContent(found, token)) throw new Error(found ? 'it came back different' : 'not found');
        return null;
      },
    },
    {
      name: 'read it back by id',
      run: async () => {
        const { id } = needSaved();
        const found = await store.findTokenById(id);
        if (!found || !sameTokenContent(found, token)) throw new Error(found ? 'it came back different' : 'not found');
        return null;
      },
    },
    {
      name: 'delete it',
      run: async () => {
        const { id } = needSaved();
        await store.deleteToken(id);
        if (await store.findTokenById(id)) throw new Error('still there after deleteToken');
        return null;
      },
    },
    {
      name: 'take and release the lock',
      run: async () => {
        if (!supportsLocking(store)) return { skipped: 'this store has no lock: refreshes are coordinated within one process only' };
        const key = `ztoken:verify:${randomBytes(6).toString('hex')}`;
        const started = Date.now();
        let inside = false;
        await store.withLock(key, 5_000, async () => {
          inside = true;
        });
        if (!inside) throw new Error('the locked function did not run');
        // Released means it can be taken again at once.
        await store.withLock(key, 5_000, async () => undefined);
        return `${Date.now() - started} ms`;
      },
    },
  ];
}

export function registerVerify(program: Command, cli: CliRuntime): void {
  const command = program
    .command('verify')
    .description('check that a store works: write, read and delete a sentinel token, take and release the lock');
  addStoreOption(command);
  addDebugOption(command);
  addExamples(command, [
    'ztoken verify',
    'ztoken verify --store mysql://root@localhost:3306/zohooauth',
    'ztoken verify --store redis://localhost:6379/0?prefix=zoho:',
  ]);
  command.action(async (opts: StoreFlags) => {
    const { out } = cli;
    const url = storeUrlOf(opts);
    const shown = describeStoreUrl(url);
    out.line(`Verifying ${shown}`);
    let store: TokenStore;
    try {
      store = await openCliStore(cli, url, { access: 'read' });
    } catch (error) {
      out.line(out.fail(`open the store: ${describeError(error, { storeUrls: [url], secrets: out.secrets }).message}`));
      cli.exitCode = EXIT_FAILURE;
      return;
    }
    out.line(out.ok('open the store'));
    let failed = 0;
    for (const check of checksFor(store)) {
      try {
        const detail = await check.run();
        if (detail !== null && typeof detail === 'object') {
          out.line(`${out.c.dim('–')} ${check.name}: ${out.c.dim(detail.skipped)}`);
          continue;
        }
        out.line(out.ok(detail ? `${check.name} ${out.c.dim(`(${detail})`)}` : check.name));
      } catch (error) {
        failed++;
        out.line(out.fail(`${check.name}: ${describeError(error, { storeUrls: [url] }).message.replace(/^Unexpected error: /, '')}`));
        if (cli.debug) out.note(String((error as Error).stack));
      }
    }
    if (failed > 0) {
      out.line(out.c.red(`${failed} check${failed === 1 ? '' : 's'} failed for ${shown}`));
      cli.exitCode = EXIT_FAILURE;
    } else {
      out.line(out.c.green(`${shown} works.`));
    }
  });
}
