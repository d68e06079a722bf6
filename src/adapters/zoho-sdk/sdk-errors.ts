/**
 * Our errors as the SDK's SDKException (code 'TOKEN_STORE'), in the SDK's own words
 * ("Exception in saveToken - DBStore : ..."), with our TokenStoreError as the cause so callers
 * keep its reason and field. Errors that are not ours become a scrubbed TokenStoreError
 * (stores/foreign-errors.ts): they may echo secrets, and the SDK copies a cause's text into its message.
 */
import type { TokenStoreError } from '../../errors.js';
import { foreignStoreError } from '../../stores/foreign-errors.js';
import type { SdkClasses } from './sdk-classes.js';

export const SDK_TOKEN_STORE_CODE = 'TOKEN_STORE';

/** The SDK's wording for an unknown id (its FileStore and DBStore say the same). */
export const GIVEN_ID_IS_INVALID = 'Given ID is invalid';

export function sdkException(classes: SdkClasses, message: string, cause?: TokenStoreError): Error {
  const error = new classes.SDKException(SDK_TOKEN_STORE_CODE, message, undefined, cause);
  // No details: the constructor skips undefined, but toString() would print "undefined" for it.
  (error as { details?: unknown }).details = null;
  return error;
}

/**
 * Maps any failure of an adapter call to an SDKException. `operation` is the SDK's method name,
 * `storeName` names the wrapped store, `secrets` are the values the call handled.
 */
export function toSdkException(
  classes: SdkClasses,
  error: unknown,
  operation: string,
  storeName: string,
  secrets: Iterable<string | null | undefined>,
): Error {
  if (error instanceof classes.SDKException) return error;
  return sdkException(classes, `Exception in ${operation} - ${storeName} : `, foreignStoreError(error, operation, storeName, secrets));
}
