/**
 * Exit codes and error messages of the ztoken CLI: every failure is told in plain words, with a
 * hint of what to do, no stack trace unless --debug, and never a whole secret.
 */
import { CommanderError } from 'commander';
import {
  ReauthorizationRequiredError,
  TokenStoreError,
  ZohoNetworkError,
  ZohoOAuthError,
  ZohoThrottleError,
  ZTokenError,
} from '../errors.js';
import { describeStoreUrl } from '../stores/url.js';
import { scrubSecrets } from '../token.js';

export const EXIT_OK = 0;
/** Something the command tried failed (Zoho, the store, a check). */
export const EXIT_FAILURE = 1;
/** The command line is wrong: unknown command or option, missing or invalid value. */
export const EXIT_USAGE = 2;
/** Stopped by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** What to do about a key problem of an encrypted store (`?encrypt=1`). */
export const KEYS_HINT =
  'Keys come from --key-file PATH / ZTOKEN_KEY_FILE (a mode 0600 file of id:base64 lines) or ZTOKEN_KEYS=id:base64,...; ' +
  'list every key that encrypted a stored token, the newest last (ztoken keygen makes one).';

/** A failure the CLI itself reports; `hint` says what to do about it. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
    this.hint = options.hint;
  }
}

/** A wrong command line or configuration: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: EXIT_USAGE });
  }
}

/** Commander reports its own usage errors (it has printed them already). */
export function isCommanderError(error: unknown): error is CommanderError {
  return error instanceof CommanderError;
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ZTokenError && error.code === 'CONFIG') return EXIT_USAGE;
  return EXIT_FAILURE;
}

export interface ErrorContext {
  /** Store URLs the command used, to say where a store failure happened. */
  storeUrls?: readonly string[];
  /** Values to scrub from anything printed (client secret, grant token from the command line). */
  secrets?: Iterable<string>;
}

/** A text safe to print: known secrets and anything shaped like a Zoho token redacted. */
export function scrubText(text: string, secrets: Iterable<string> = []): string {
  return scrubSecrets(text, secrets);
}

/**
 * A store error in the user's words: the stores' messages say "Exception in findTokenById -
 * DBStore (...)" (Zoho's SDK style, for programmers); the CLI user called no such method, so the
 * method is left out and the store and where it is stay.
 */
export function plainStoreMessage(message: string): string {
  return message.replace(/Exception in \w+ - (\w+)/g, '$1');
}

/** The message and hint for an error, in plain words. */
export function describeError(error: unknown, context: ErrorContext = {}): { message: string; hints: string[] } {
  const hints: string[] = [];
  let message: string;
  if (error instanceof CliError) {
    message = error.message;
    if (error.hint) hints.push(error.hint);
  } else if (error instanceof ZohoOAuthError) {
    message = error.message;
    if (error.zohoError === 'invalid_client')
      hints.push(
        'Set the right client with --client-id/--client-secret or ZOHO_CLIENT_ID/ZOHO_CLIENT_SECRET, and the data center with --dc or ZOHO_DC.',
      );
  } else if (error instanceof ZohoThrottleError) {
    message = error.message;
    hints.push(`Zoho asks to wait about ${Math.ceil(error.retryAfterMs / 1000)} s before trying again.`);
  } else if (error instanceof ZohoNetworkError) {
    message = error.message;
    hints.push('Check the accounts server (--accounts-url / ZOHO_ACCOUNTS_URL, or --dc / ZOHO_DC) and the network.');
  } else if (error instanceof ReauthorizationRequiredError) {
    message = error.message;
    hints.push('Authorize again: ztoken login, or ztoken exchange --grant-token CODE.');
  } else if (error instanceof TokenStoreError) {
    message = plainStoreMessage(error.message);
    if (error.reason === 'CRYPTO') hints.push(KEYS_HINT);
    const urls = context.storeUrls ?? [];
    if (urls.length > 0 && !urls.some((url) => message.includes(describeStoreUrl(url)))) {
      hints.push(`Store: ${urls.map(describeStoreUrl).join(', ')}`);
    }
  } else if (error instanceof ZTokenError) {
    message = error.message;
  } else if (error instanceof Error) {
    message = `Unexpected error: ${error.message}`;
    hints.push('Rerun with --debug to see the stack trace.');
  } else {
    message = `Unexpected error: ${String(error)}`;
  }
  const secrets = [...(context.secrets ?? [])];
  return { message: scrubText(message, secrets), hints: hints.map((h) => scrubText(h, secrets)) };
}

/** The stack and the cause chain, scrubbed, for --debug. */
export function debugDetails(error: unknown, secrets: Iterable<string> = []): string {
  const lines: string[] = [];
  const list = [...secrets];
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    const e = current as { stack?: unknown; message?: unknown; cause?: unknown };
    const text = typeof e.stack === 'string' ? e.stack : String(e.message ?? current);
    lines.push(depth === 0 ? text : `Caused by: ${text}`);
    current = e.cause;
  }
  return scrubText(lines.join('\n'), list);
}
