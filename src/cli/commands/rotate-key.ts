/**
 * `ztoken rotate-key --store URL?encrypt=1`: re-encrypts every token under the newest key
 * (EncryptedStore.rotateKeys: one token at a time, so the fleet keeps working), and says how
 * many it rotated of how many. Every token is read first: if any cannot be decrypted with the
 * configured keys, nothing is rewritten. Safe to rerun.
 */
import type { Command } from 'commander';
import { keyIdOf } from '../../crypto/cipher.js';
import { EncryptedStore } from '../../crypto/encrypted-store.js';
import { TokenStoreError } from '../../errors.js';
import { describeStoreUrl, isEncryptedStoreUrl } from '../../stores/url.js';
import { addDebugOption, addExamples, addStoreOption, type CliRuntime, openCliStore, type StoreFlags, storeUrlOf } from '../context.js';
import { CliError, KEYS_HINT, UsageError } from '../errors.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** How the stored values are encrypted now, e.g. "2 under key k1, 1 in plaintext, 5 under key k2". */
async function keyUse(store: EncryptedStore, newest: string): Promise<{ text: string; allNewest: boolean }> {
  const counts = new Map<string, number>();
  let allNewest = true;
  for (const row of await store.inner.getTokens()) {
    const ids = new Set<string>();
    for (const value of [row.clientSecret, row.refreshToken, row.accessToken, row.grantToken]) {
      if (value !== undefined) ids.add(keyIdOf(value) ?? '');
    }
    if ([...ids].some((id) => id !== newest)) allNewest = false;
    const label = ids.size === 0 ? 'with no secret' : [...ids].map((id) => (id === '' ? 'in plaintext' : `under key ${id}`)).join(' and ');
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return { text: [...counts].map(([label, n]) => `${n} ${label}`).join(', ') || 'no tokens', allNewest };
}

export function registerRotateKey(program: Command, cli: CliRuntime): void {
  const command = program
    .command('rotate-key')
    .description('re-encrypt every token of an encrypted store (?encrypt=1) under the newest key, without downtime; safe to rerun');
  addStoreOption(command);
  addDebugOption(command);
  command.addHelpText(
    'after',
    `
The keys come from --key-file / ZTOKEN_KEY_FILE or ZTOKEN_KEYS; the last one is the newest.
Every token is read first: if one cannot be decrypted with these keys, nothing is changed.
Then each token not yet under the newest key is rewritten, one at a time, while other
processes keep working. Plaintext tokens (written before encryption was on) are encrypted.
Once it reports every token under the newest key, older keys can be removed from the list.`,
  );
  addExamples(command, [
    'ztoken rotate-key --store "sqlite:./zohooauth.db?encrypt=1" --key-file ./ztoken.keys',
    'ZTOKEN_KEYS=k1:OLD,k2:NEW ztoken rotate-key --store "postgres://app@db:5432/crm?encrypt=1"',
  ]);
  command.action(async (opts: StoreFlags) => {
    const url = storeUrlOf(opts);
    const shown = describeStoreUrl(url);
    if (!isEncryptedStoreUrl(url)) {
      throw new UsageError(`rotate-key needs an encrypted store: ${shown} has no ?encrypt=1`, {
        hint: 'Add ?encrypt=1 to the store URL, e.g. --store "sqlite:./zohooauth.db?encrypt=1" (quote it in the shell). On a store with plaintext tokens, rotate-key encrypts them.',
      });
    }
    const store = await openCliStore(cli, url, { access: 'use' });
    if (!(store instanceof EncryptedStore)) throw new CliError(`${shown} did not open as an encrypted store`);
    const { out } = cli;
    const newest = store.keyIds[store.keyIds.length - 1] ?? '';
    out.line(`Keys: ${store.keyIds.join(', ')} (new writes use ${newest})`);
    out.line(`Before: ${(await keyUse(store, newest)).text}`);
    try {
      // Decrypts every token: proves the keys read them all before anything is rewritten.
      await store.getTokens();
    } catch (error) {
      if (error instanceof TokenStoreError && error.reason === 'CRYPTO') {
        throw new CliError(`Nothing was rotated: ${error.message}`, { cause: error, hint: KEYS_HINT });
      }
      throw error;
    }
    const { rotated, total } = await store.rotateKeys();
    out.line(out.ok(`Rotated ${rotated} of ${plural(total, 'token')} to key ${newest} in ${shown}`));
    const after = await keyUse(store, newest);
    out.line(`After: ${after.text}`);
    if (after.allNewest && store.keyIds.length > 1) {
      out.line(out.c.dim(`Keys other than ${newest} can now be removed from the key list (keep them while backups need them).`));
    }
  });
}
