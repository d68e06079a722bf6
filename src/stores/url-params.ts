/**
 * A store URL taken apart for the store that owns it. Each store module reads its own query
 * parameters (the names of its constructor options) through `params(names)`, so url.ts needs to
 * know no store's options; a name the store does not take is an error listing the ones it does,
 * with a "did you mean", never silently ignored.
 */
import { TokenStoreError } from '../errors.js';

/** Parameters every scheme takes, read by openStore itself. */
export const COMMON_URL_PARAMS = ['encrypt', 'encryptFormat'] as const;

/** A store URL split at its scheme and query, for the store module that reads it. */
export class StoreUrl {
  /** Lower case, with the colon: 'sqlite:'. */
  readonly scheme: string;
  /** What follows the scheme's colon, up to the `?`. */
  readonly body: string;
  readonly query: URLSearchParams;

  /** `shown` is the URL safe for messages (passwords masked). */
  constructor(
    readonly url: string,
    readonly shown: string,
  ) {
    const colon = url.indexOf(':');
    this.scheme = colon < 0 ? '' : url.slice(0, colon + 1).toLowerCase();
    const rest = url.slice(colon + 1);
    const at = rest.indexOf('?');
    this.body = at < 0 ? rest : rest.slice(0, at);
    this.query = new URLSearchParams(at < 0 ? '' : rest.slice(at + 1));
  }

  /** The query parameters, checked against the names the store takes (its constructor options). */
  params(names: readonly string[]): StoreUrlParams {
    return new StoreUrlParams(this, names);
  }

  /** `sqlite:./x.db`, `sqlite:/abs/x.db`, `sqlite:///abs/x.db`, `file://./x` all name a path. */
  path(): string {
    const body = this.body;
    const path = body.startsWith('//') ? body.slice(2) : body;
    if (path === '') throw new TokenStoreError('INVALID_ARGUMENT', `Store URL ${this.shown} names no path: use ${this.scheme}./file`);
    return decodeURIComponent(path);
  }

  /** `new URL(url)`, but a refusal names the URL masked: Node's own error carries it whole (`input`). */
  parse(): URL {
    try {
      return new URL(this.url);
    } catch {
      throw new TokenStoreError(
        'INVALID_ARGUMENT',
        `Invalid store URL ${this.shown}: percent-encode reserved characters (such as # / ? @ :) in the user name and password`,
      );
    }
  }
}

/** The edit distance of two short names (case-insensitive), for "did you mean". */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[y.length] ?? 0;
}

/** The candidate nearest to `name`, when it is near enough to be a typo of it. */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** The query parameters of one store URL, checked against the names its store takes. */
export class StoreUrlParams {
  private readonly query: URLSearchParams;

  constructor(
    private readonly parts: StoreUrl,
    names: readonly string[],
  ) {
    this.query = parts.query;
    const valid = [...names, ...COMMON_URL_PARAMS];
    for (const name of new Set(this.query.keys())) {
      if (!valid.includes(name)) {
        const near = didYouMean(name, valid);
        throw new TokenStoreError(
          'INVALID_ARGUMENT',
          `Unknown parameter ?${name.slice(0, 40)}= in the ${parts.scheme} store URL${near ? ` (did you mean ?${near}=?)` : ''}; ${parts.scheme} URLs take ${valid.map((n) => `?${n}=`).join(' ')}`,
        );
      }
      if (this.query.getAll(name).length > 1) {
        throw new TokenStoreError('INVALID_ARGUMENT', `The ${parts.scheme} store URL gives ?${name}= more than once`);
      }
    }
  }

  string(name: string): string | undefined {
    return this.query.get(name) ?? undefined;
  }

  /** A number parameter; its range is checked by the store's constructor, as for the option. */
  number(name: string): number | undefined {
    const value = this.query.get(name);
    if (value === null) return undefined;
    const number = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(number)) {
      throw new TokenStoreError('INVALID_ARGUMENT', `The ${this.parts.scheme} store URL's ?${name}= must be a number`);
    }
    return number;
  }
}
