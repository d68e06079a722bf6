/** The one message of a SQL store opened with `create: false` on a table that is not there. */
import { TokenStoreError } from '../../errors.js';

export function missingTable(where: string): TokenStoreError {
  return new TokenStoreError('NOT_FOUND', `No token table in ${where}: the store was opened with create: false, so it was not created`);
}
