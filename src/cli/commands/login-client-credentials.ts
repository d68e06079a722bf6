/**
 * `ztoken login --client-credentials --soid ZohoCRM.<org id>`: Zoho's self-client
 * `client_credentials` grant. No browser and no user: the client's id and secret, the org and the
 * scopes give an access token, and no refresh token; the manager gets a new one with the same
 * grant when it expires. The grant (not a secret) is stored with the token.
 */
import { TokenStoreError } from '../../errors.js';
import type { TokenStore } from '../../store.js';
import { describeStoreUrl } from '../../stores/url.js';
import { type ClientCredentialsGrant, validateClientCredentialsGrant } from '../../zoho/client-credentials-grant.js';
import { type ClientSettings, type CliRuntime, createManager } from '../context.js';
import { UsageError } from '../errors.js';
import { printSaved } from './exchange.js';

/** --soid and --scope as a grant, or a usage error that names what is wrong and where to look. */
export function parseClientCredentialsFlags(soid: string | undefined, scope: string): ClientCredentialsGrant {
  if (soid === undefined || soid.trim() === '') {
    throw new UsageError('--client-credentials needs --soid ZohoCRM.<org id>', {
      hint: 'The org id is in Zoho CRM under Setup > Company Details (or GET /crm/v8/org): for example --soid ZohoCRM.10234567.',
    });
  }
  try {
    return validateClientCredentialsGrant({ soid: soid.trim(), scopes: scope.split(',') });
  } catch (error) {
    if (!(error instanceof TokenStoreError)) throw error;
    const message = error.message.replace(/^Invalid client-credentials grant: /, '');
    throw new UsageError(`Invalid --soid or --scope: ${message}`, {
      hint: 'For example: --soid ZohoCRM.10234567 --scope ZohoCRM.modules.ALL,ZohoCRM.users.READ',
    });
  }
}

export async function loginWithClientCredentials(
  cli: CliRuntime,
  store: TokenStore,
  client: ClientSettings,
  grant: ClientCredentialsGrant,
  storeUrl: string,
): Promise<void> {
  const manager = createManager(cli, store, client);
  // A token of this grant already stored (and still valid, or renewed now) is not got again.
  let saved = false;
  manager.on('save', () => {
    saved = true;
  });
  const token = await manager.authorize({ clientCredentials: grant });
  if (!saved) cli.out.line(cli.out.c.dim(`A token for ${grant.soid} with these scopes is already in ${describeStoreUrl(storeUrl)}.`));
  printSaved(cli.out, token, storeUrl, saved ? 'Saved' : 'Using');
}
