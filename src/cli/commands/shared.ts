/** Small helpers the token commands share: an id argument, and the token it names. */
import { isIdRefusal, TokenStoreError } from '../../errors.js';
import type { TokenStore } from '../../store.js';
import { describeStoreUrl } from '../../stores/url.js';
import { MAX_LAYOUT_ID_LENGTH, type StoredToken, validateId } from '../../token.js';
import { CliError, UsageError } from '../errors.js';

/**
 * Validates an ID argument with the stores' own rule; a malformed id is a usage error. The length
 * is the longest any table layout holds (a Python table's uuid): the store refuses longer ones for its table.
 */
export function parseIdArg(id: string): string {
  try {
    return validateId(id, 'token id', MAX_LAYOUT_ID_LENGTH);
  } catch (error) {
    if (error instanceof TokenStoreError) throw new UsageError(error.message);
    throw error;
  }
}

/** The token with this id, or a failure that says where it looked and how to find ids. */
export async function findOrFail(store: TokenStore, id: string, storeUrl: string): Promise<StoredToken> {
  const token = await store.findTokenById(id).catch((error: unknown) => {
    // An id the store's table cannot hold (longer than its id column) is a usage error too.
    if (isIdRefusal(error)) {
      throw new UsageError(error.message.replace(/^Invalid id\b/, 'Invalid token id'));
    }
    throw error;
  });
  if (!token) {
    throw new CliError(`No token with id ${id} in ${describeStoreUrl(storeUrl)}`, {
      hint: 'ztoken list shows the stored tokens and their ids.',
    });
  }
  return token;
}

/** "token 3 (alice@zylker.com)" */
export function describeToken(token: StoredToken): string {
  return token.userName ? `token ${token.id} (${token.userName})` : `token ${token.id}`;
}
