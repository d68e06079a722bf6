/**
 * Errors of code that is not ours (a custom store, a driver) made safe to show. Our own errors
 * (ZTokenError) build their texts with redaction already; a foreign error's message, stack or
 * cause may echo a token it was handed, so it becomes a TokenStoreError whose every text, down
 * the cause chain, has been through scrubSecrets. The cause is a scrubbed copy of the original
 * (its name, message and stack), so a stack trace still shows where the failure came from.
 */
import { TokenStoreError, ZTokenError } from '../errors.js';
import { scrubSecrets } from '../token.js';

/** The store operations that write: their failures are WRITE_FAILED, the others UNAVAILABLE. */
const WRITES = new Set(['saveToken', 'deleteToken', 'deleteTokens']);
/** How deep a cause chain is copied; deeper causes are dropped (no real chain is that long). */
const MAX_CAUSE_DEPTH = 5;

export function foreignStoreError(
  error: unknown,
  operation: string,
  storeName: string,
  secrets: Iterable<string | null | undefined>,
): TokenStoreError {
  if (error instanceof TokenStoreError) return error;
  const known = [...secrets];
  const scrub = (text: string) => scrubSecrets(text, known);
  const reason = WRITES.has(operation) ? 'WRITE_FAILED' : 'UNAVAILABLE';
  const said = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new TokenStoreError(reason, `${operation} failed in ${storeName}: ${scrub(said)}`, {
    cause: scrubbedCopy(error, scrub, 0),
  });
}

/** A copy of an error with only its name, message, stack and cause, each scrubbed. */
function scrubbedCopy(error: unknown, scrub: (text: string) => string, depth: number): Error | undefined {
  if (!(error instanceof Error) || depth >= MAX_CAUSE_DEPTH) return undefined;
  // Our own errors in the chain are already safe; keep them as they are (their class and fields).
  if (error instanceof ZTokenError) return error;
  const copy = new Error(scrub(error.message));
  copy.name = error.name;
  copy.stack = error.stack === undefined ? undefined : scrub(error.stack);
  const cause = scrubbedCopy(error.cause, scrub, depth + 1);
  if (cause) copy.cause = cause;
  return copy;
}
