import { TokenStoreError } from '../../errors.js';

/** Table names are identifiers, never bound values: accept only a plain, short name. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function validateTableName(name: unknown): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `Invalid table name ${JSON.stringify(typeof name === 'string' ? name.slice(0, 70) : name)}: use letters, digits and underscores, starting with a letter or underscore, at most 63 characters`,
    );
  }
  return name;
}
