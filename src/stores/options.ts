/**
 * Validation of the numeric options the stores take (pool sizes, timeouts, lock times): one rule
 * and one message shape for every store.
 */
import { TokenStoreError } from '../errors.js';

/**
 * `value`, or `fallback` when it is absent. It must be a positive number: a whole one for
 * `'integer'` (pool sizes, driver timeouts), any finite one for `'ms'`.
 */
export function positiveOption(store: string, name: string, value: unknown, fallback: number, kind: 'integer' | 'ms' = 'integer'): number {
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && (kind === 'integer' ? Number.isInteger(value) : Number.isFinite(value)) && value > 0;
  if (!ok) {
    // A number is shown; anything else only by its type (a misplaced option may be a password).
    const shown = typeof value === 'number' ? String(value) : `(a ${value === null ? 'null' : typeof value})`;
    const expected = kind === 'integer' ? 'a positive whole number' : 'a positive number of milliseconds';
    throw new TokenStoreError('INVALID_ARGUMENT', `Invalid ${store} option ${name} ${shown}: expected ${expected}`);
  }
  return value;
}
