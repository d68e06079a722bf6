/**
 * Finding secrets where they must not be: a registry of recognisable secrets, every text an error
 * can turn into (its message, stack, String(), JSON and util.inspect, down its whole `cause`
 * chain and inside AggregateErrors), and a logger that records every line it is given.
 */
import { inspect } from 'node:util';
import type { Logger } from '../../../src/manager/token-manager.js';
import { type OAuthToken, secretsOf } from '../../../src/token.js';

/** Zoho tokens (`1000.<32 hex>.<32 hex>`): none may appear whole, whether the test knows it or not. */
export const ZOHO_TOKEN_SHAPE = /1000\.[0-9a-f]{32}\.[0-9a-f]{32}/i;
/** Shorter values are not checked: a few characters may be shown (redact() shows up to 8). */
export const MIN_SECRET_LENGTH = 8;

export class SecretRegistry {
  /** value -> what it is, for the failure message. */
  private readonly known = new Map<string, string>();

  add(what: string, ...values: (string | null | undefined)[]): void {
    for (const value of values) if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) this.known.set(value, what);
  }

  /** The four secret fields of a token (client secret, refresh, access and grant token). */
  addToken(what: string, token: OAuthToken | null | undefined): void {
    this.add(what, ...secretsOf(token));
  }

  get size(): number {
    return this.known.size;
  }

  /** What leaks in `text` ("client secret (leak-c…)"), or undefined when nothing does. */
  findIn(text: string): string | undefined {
    for (const [value, what] of this.known) if (text.includes(value)) return `${what} ${JSON.stringify(`${value.slice(0, 6)}…`)}`;
    const shaped = ZOHO_TOKEN_SHAPE.exec(text);
    return shaped ? `a Zoho-shaped token ${JSON.stringify(`${shaped[0].slice(0, 9)}…`)}` : undefined;
  }
}

/** Every text an error (or any thrown value) shows, with where it came from, down its causes. */
export function errorTexts(error: unknown): { where: string; text: string }[] {
  const texts: { where: string; text: string }[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, path: string, depth: number): void => {
    if (value === undefined || value === null || seen.has(value) || depth > 10) return;
    seen.add(value);
    const add = (what: string, text: () => unknown) => {
      try {
        texts.push({ where: `${path}.${what}`, text: String(text()) });
      } catch (failure) {
        texts.push({ where: `${path}.${what}`, text: `(cannot be shown: ${(failure as Error).message})` });
      }
    };
    if (typeof value !== 'object' && typeof value !== 'function') {
      add('value', () => value);
      return;
    }
    const e = value as { message?: unknown; stack?: unknown; cause?: unknown; errors?: unknown; details?: unknown };
    add('message', () => e.message);
    add('stack', () => e.stack);
    add('String()', () => String(value));
    add('JSON.stringify()', () => JSON.stringify(value));
    add('util.inspect()', () => inspect(value, { depth: 8, showHidden: true, breakLength: Number.POSITIVE_INFINITY }));
    visit(e.cause, `${path}.cause`, depth + 1);
    if (Array.isArray(e.errors)) for (const [i, inner] of e.errors.entries()) visit(inner, `${path}.errors[${i}]`, depth + 1);
    if (e.details instanceof Error) visit(e.details, `${path}.details`, depth + 1);
  };
  visit(error, 'error', 0);
  return texts;
}

export class LeakChecker {
  /** Labels of everything checked, so the test can say how much it covered. */
  readonly checked: string[] = [];
  readonly secrets: SecretRegistry;

  constructor(secrets: SecretRegistry) {
    this.secrets = secrets;
  }

  /** Fails when any secret appears whole in `text`. */
  text(label: string, text: string): void {
    this.checked.push(label);
    const found = this.secrets.findIn(text);
    if (found) throw new Error(`${label} shows ${found} whole:\n${text.slice(0, 3000)}`);
  }

  /** Fails when any secret appears whole in any text of the error or of its causes. */
  error(label: string, error: unknown): void {
    this.checked.push(label);
    for (const { where, text } of errorTexts(error)) {
      const found = this.secrets.findIn(text);
      if (found) throw new Error(`${label}: ${where} shows ${found} whole:\n${text.slice(0, 3000)}`);
    }
  }

  /** Runs `fn`, which must throw (or reject); checks the error and returns it. */
  async thrown(label: string, fn: () => unknown): Promise<unknown> {
    let error: unknown;
    let threw = false;
    try {
      await fn();
    } catch (caught) {
      threw = true;
      error = caught;
    }
    if (!threw) throw new Error(`${label}: expected an error, got none`);
    this.error(label, error);
    return error;
  }
}

/** A TokenManager logger that keeps every line of every level. */
export function recordingLogger(): Required<Logger> & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string) => {
    lines.push(`${level}: ${message}`);
  };
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}
