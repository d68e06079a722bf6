/**
 * openStore(url): one string picks and configures a store (the CLI's --store / ZTOKEN_STORE).
 * Drivers are imported only for the scheme asked for, and each store module reads its own query
 * parameters (its constructor options, see url-params.ts): an unknown one is an error.
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
import { StoreUrl } from './url-params.js';

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
  /**
   * Whether a store that does not exist yet may be created (default true). false: a missing
   * SQLite file or table, token file, MySQL/PostgreSQL table, or a Redis prefix holding no token
   * fails the open with NOT_FOUND, and nothing is created. For reading.
   */
  create?: boolean;
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

/** Each scheme's store module, imported only when asked for; each one reads its own URL parameters. */
const OPENERS: Record<string, (url: StoreUrl, create: boolean) => Promise<TokenStore>> = {
  'memory:': async (url) => (await import('./memory.js')).memoryStoreFromUrl(url),
  'sqlite:': async (url, create) => (await import('./sqlite.js')).sqliteStoreFromUrl(url, create),
  'file:': async (url, create) => (await import('./file.js')).fileStoreFromUrl(url, create),
  'mysql:': async (url, create) => (await import('./mysql.js')).mysqlStoreFromUrl(url, create),
  'postgres:': async (url, create) => (await import('./postgres.js')).postgresStoreFromUrl(url, create),
  'postgresql:': async (url, create) => (await import('./postgres.js')).postgresStoreFromUrl(url, create),
  'redis:': async (url, create) => (await import('./redis.js')).redisStoreFromUrl(url, create),
  'rediss:': async (url, create) => (await import('./redis.js')).redisStoreFromUrl(url, create),
  'redis+cluster:': async (url, create) => (await import('./redis.js')).redisStoreFromUrl(url, create),
  'rediss+cluster:': async (url, create) => (await import('./redis.js')).redisStoreFromUrl(url, create),
};

export async function openStore(url: string = DEFAULT_STORE_URL, options: OpenStoreOptions = {}): Promise<TokenStore> {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TokenStoreError('INVALID_ARGUMENT', `Empty store URL; supported schemes: ${SUPPORTED_SCHEMES.join(' ')}`);
  }
  const parts = new StoreUrl(url, describeStoreUrl(url));
  const opener = OPENERS[parts.scheme];
  if (!opener) {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `Unknown store ${JSON.stringify(parts.shown.slice(0, 60))}: supported schemes are ${SUPPORTED_SCHEMES.join(' ')} (e.g. ${DEFAULT_STORE_URL})`,
    );
  }
  const encrypt = parts.query.get('encrypt');
  if (encrypt !== null && !['1', 'true', '0', 'false'].includes(encrypt)) {
    throw new TokenStoreError('INVALID_ARGUMENT', `Store URL ?encrypt=${encrypt.slice(0, 20)}: use ?encrypt=1 (or leave it out)`);
  }
  // ?encryptFormat=zt1 keeps writing the format older releases read (a fleet mid-upgrade; cipher.ts).
  const encryptFormat = parts.query.get('encryptFormat');
  if (encryptFormat !== null && !(encryptFormat === 'zt1' || encryptFormat === 'zt2')) {
    throw new TokenStoreError('INVALID_ARGUMENT', `Store URL ?encryptFormat=${encryptFormat.slice(0, 20)}: use zt2 (the default) or zt1`);
  }
  const encrypted = isEncryptedStoreUrl(url);
  if (encryptFormat !== null && !encrypted) {
    throw new TokenStoreError('INVALID_ARGUMENT', 'Store URL ?encryptFormat= needs ?encrypt=1 as well');
  }
  const store = await opener(parts, options.create ?? true);
  if (encrypted) {
    const { EncryptedStore } = await import('../crypto/encrypted-store.js');
    const { loadKeysFromEnv, loadKeysFromFile } = await import('../crypto/keys.js');
    const env = options.env ?? process.env;
    try {
      const keyFile = env[KEY_FILE_ENV_VAR];
      const keys = options.keys ?? (keyFile ? loadKeysFromFile(keyFile) : loadKeysFromEnv(env));
      return new EncryptedStore(store, { keys, writeFormat: encryptFormat ?? undefined });
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}
