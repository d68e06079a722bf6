/**
 * openStore(url): one string picks and configures a store (the CLI's --store / ZTOKEN_STORE).
 * Drivers are imported only for the scheme asked for.
 *   memory:                         sqlite:./zohooauth.db   sqlite::memory:
 *   file:./sdk_tokens.txt           mysql://user:pass@host:3306/zohooauth?table=oauthtoken
 *   postgres://user@host:5432/db?table=oauthtoken          redis://host:6379/0?prefix=zoho:
 *   redis+cluster://h1:7000,h2:7001?prefix=zoho:           (a Redis Cluster's seed nodes)
 * Any of them with `?encrypt=1` is wrapped in an EncryptedStore keyed by `options.keys`, else the
 * key file named by ZTOKEN_KEY_FILE, else ZTOKEN_KEYS.
 */
import type { EncryptionKey } from '../crypto/keys.js';
import { TokenStoreError } from '../errors.js';
import type { TokenStore } from '../store.js';

export const DEFAULT_STORE_URL = 'sqlite:./zohooauth.db';
export const SUPPORTED_SCHEMES = [
  'sqlite:',
  'file:',
  'mysql:',
  'postgres:',
  'postgresql:',
  'redis:',
  'rediss:',
  'redis+cluster:',
  'rediss+cluster:',
  'memory:',
] as const;

export interface OpenStoreOptions {
  /** Where ZTOKEN_KEY_FILE and ZTOKEN_KEYS are read for `?encrypt=1` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The keys for `?encrypt=1`, when the caller has loaded them already (wins over the env). */
  keys?: readonly EncryptionKey[];
}

/** The variable naming a key file (mode 0600), the alternative to ZTOKEN_KEYS. */
export const KEY_FILE_ENV_VAR = 'ZTOKEN_KEY_FILE';

/** Whether a store URL asks for encryption: `encrypt=1` or `encrypt=true` in its query. */
export function isEncryptedStoreUrl(url: string): boolean {
  const at = url.indexOf('?');
  if (at < 0) return false;
  const value = new URLSearchParams(url.slice(at + 1)).get('encrypt');
  return value === '1' || value === 'true';
}

/** Query parameters that carry a database password (libpq's and the drivers' names). */
const PASSWORD_PARAMS = new Set(['password', 'sslpassword']);
const MASK = '***';

/** `a=1&password=x` with the password parameters' values masked, the rest as written. */
function maskQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // A malformed escape: compare the name as written.
      }
      return PASSWORD_PARAMS.has(name.toLowerCase()) ? `${rawName}=${MASK}` : pair;
    })
    .join('&');
}

/** Masks the query part (after the first `?`, before any `#`) of a text. */
function maskQueryOf(text: string): string {
  const at = text.indexOf('?');
  if (at < 0) return text;
  const hash = text.indexOf('#', at);
  const end = hash < 0 ? text.length : hash;
  return `${text.slice(0, at + 1)}${maskQuery(text.slice(at + 1, end))}${text.slice(end)}`;
}

/**
 * The URL with every password masked, safe for messages: the userinfo password and the
 * `password`/`sslpassword` query parameters (any case). A URL the parser refuses, or one with an
 * `@` after its host (a password with an unescaped `#`, `/` or `?` splits there), has everything
 * from the user name's end to its last `@` masked.
 */
export function describeStoreUrl(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed && !`${parsed.pathname}${parsed.search}${parsed.hash}`.includes('@')) {
    if (parsed.password === '') return maskQueryOf(url);
    parsed.password = MASK;
    parsed.search = maskQuery(parsed.search.slice(1));
    return parsed.href;
  }
  const authority = /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/is.exec(url);
  if (!authority) return maskQueryOf(url);
  const scheme = authority[1] ?? '';
  const userinfo = authority[2] ?? '';
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? '' : userinfo.slice(0, colon + 1);
  return `${scheme}${user}${MASK}@${maskQueryOf(url.slice(authority[0].length))}`;
}

function splitQuery(rest: string): { body: string; query: URLSearchParams } {
  const at = rest.indexOf('?');
  return at < 0
    ? { body: rest, query: new URLSearchParams() }
    : { body: rest.slice(0, at), query: new URLSearchParams(rest.slice(at + 1)) };
}

/** `sqlite:./x.db`, `sqlite:/abs/x.db`, `sqlite:///abs/x.db`, `file://./x` all name a path. */
function pathOf(body: string, scheme: string, url: string): string {
  const path = body.startsWith('///') ? body.slice(2) : body.startsWith('//') ? body.slice(2) : body;
  if (path === '') throw new TokenStoreError('INVALID_ARGUMENT', `Store URL ${describeStoreUrl(url)} names no path: use ${scheme}./file`);
  return decodeURIComponent(path);
}

/** `new URL(url)`, but a refusal names the URL masked: Node's own error carries it whole (`input`). */
function parseStoreUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `Invalid store URL ${describeStoreUrl(url)}: percent-encode reserved characters (such as # / ? @ :) in the user name and password`,
    );
  }
}

function optional(query: URLSearchParams, name: string): string | undefined {
  return query.get(name) ?? undefined;
}

export async function openStore(url: string = DEFAULT_STORE_URL, options: OpenStoreOptions = {}): Promise<TokenStore> {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TokenStoreError('INVALID_ARGUMENT', `Empty store URL; supported schemes: ${SUPPORTED_SCHEMES.join(' ')}`);
  }
  const colon = url.indexOf(':');
  const scheme = colon < 0 ? '' : url.slice(0, colon + 1).toLowerCase();
  const { body, query } = splitQuery(url.slice(colon + 1));
  const table = optional(query, 'table');
  let store: TokenStore;
  switch (scheme) {
    case 'memory:': {
      const { MemoryStore } = await import('./memory.js');
      store = new MemoryStore();
      break;
    }
    case 'sqlite:': {
      const { SQLiteStore } = await import('./sqlite.js');
      store = new SQLiteStore({ path: body === ':memory:' ? ':memory:' : pathOf(body, scheme, url), table });
      break;
    }
    case 'file:': {
      const { FileStore } = await import('./file.js');
      store = new FileStore({ path: pathOf(body, scheme, url) });
      break;
    }
    case 'mysql:': {
      const parsed = parseStoreUrl(url);
      const { DBStore } = await import('./mysql.js');
      store = new DBStore({
        host: parsed.hostname || undefined,
        port: parsed.port ? Number(parsed.port) : undefined,
        user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
        password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
        database: parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : undefined,
        table,
      });
      break;
    }
    case 'postgres:':
    case 'postgresql:': {
      const parsed = parseStoreUrl(url);
      const { PostgresStore } = await import('./postgres.js');
      parsed.searchParams.delete('table');
      parsed.searchParams.delete('encrypt');
      store = new PostgresStore({ connectionString: parsed.toString(), table });
      break;
    }
    case 'redis:':
    case 'rediss:': {
      const parsed = parseStoreUrl(url);
      const { RedisStore } = await import('./redis.js');
      const prefix = optional(query, 'prefix');
      parsed.search = '';
      store = new RedisStore({ url: parsed.toString(), prefix });
      break;
    }
    case 'redis+cluster:':
    case 'rediss+cluster:': {
      const { RedisStore } = await import('./redis.js');
      store = new RedisStore({ url: `${scheme}${body}`, prefix: optional(query, 'prefix') });
      break;
    }
    default:
      throw new TokenStoreError(
        'INVALID_ARGUMENT',
        `Unknown store ${JSON.stringify(describeStoreUrl(url).slice(0, 60))}: supported schemes are ${SUPPORTED_SCHEMES.join(' ')} (e.g. ${DEFAULT_STORE_URL})`,
      );
  }
  if (isEncryptedStoreUrl(url)) {
    const { EncryptedStore } = await import('../crypto/encrypted-store.js');
    const { loadKeysFromEnv, loadKeysFromFile } = await import('../crypto/keys.js');
    const env = options.env ?? process.env;
    try {
      const keyFile = env[KEY_FILE_ENV_VAR];
      const keys = options.keys ?? (keyFile ? loadKeysFromFile(keyFile) : loadKeysFromEnv(env));
      return new EncryptedStore(store, { keys });
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}
