/** Assertions about errors shared by the store tests. */
import { expect } from 'vitest';
import { TokenStoreError } from '../../src/errors.js';

/** The TokenStoreError a promise rejects with (fails the test if it resolves or throws another kind). */
export async function caughtStoreError(promise: Promise<unknown>): Promise<TokenStoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenStoreError);
    return error as TokenStoreError;
  }
  throw new Error('expected a TokenStoreError');
}

/** Every message and cause in an error's chain, as text (to search for secrets). */
export function errorChainText(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(String(e.message), JSON.stringify(e));
  }
  return parts.join('\n');
}
