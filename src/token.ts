/**
 * The token model and the rules every store shares, each written once: field list, validation,
 * matching (ZOHO.md "Matching rules"), id generation and redaction.
 */
import { TokenStoreError } from './errors.js';

/** Zoho's OAuthToken as plain data. `expiryTime` is absolute epoch milliseconds. */
export interface OAuthToken {
  id?: string;
  userName?: string;
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  accessToken?: string;
  grantToken?: string;
  expiryTime?: number;
  redirectUrl?: string;
  apiDomain?: string;
}

/** A token as a store returns it: it always has an id. */
export type StoredToken = OAuthToken & { id: string };

/** Fields in Zoho's column order (`id,user_name,client_id,...,api_domain`). */
export const TOKEN_FIELDS = [
  'id',
  'userName',
  'clientId',
  'clientSecret',
  'refreshToken',
  'accessToken',
  'grantToken',
  'expiryTime',
  'redirectUrl',
  'apiDomain',
] as const satisfies readonly (keyof OAuthToken)[];
export type TokenField = (typeof TOKEN_FIELDS)[number];

/** Zoho's column name for each field, in the same order. */
export const COLUMN_NAMES = [
  'id',
  'user_name',
  'client_id',
  'client_secret',
  'refresh_token',
  'access_token',
  'grant_token',
  'expiry_time',
  'redirect_url',
  'api_domain',
] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];

export const COLUMN_OF: Record<TokenField, ColumnName> = Object.fromEntries(TOKEN_FIELDS.map((f, i) => [f, COLUMN_NAMES[i]])) as Record<
  TokenField,
  ColumnName
>;

/** Fields whose values are secrets: never logged or printed whole. */
export const SECRET_FIELDS = ['clientSecret', 'refreshToken', 'accessToken', 'grantToken'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

/** Fields a row can be looked up by. */
export type LookupField = 'id' | 'userName' | 'accessToken' | 'grantToken' | 'refreshToken';
export const LOOKUP_FIELDS: readonly LookupField[] = ['id', 'userName', 'accessToken', 'grantToken', 'refreshToken'];

/** Ids are decimal strings in Zoho's varchar(10) column. */
export const MAX_ID_LENGTH = 10;
/**
 * The longest id any known table layout holds (the v2 SDKs' varchar(255) id). Only a store whose
 * table has such an id column accepts ids longer than MAX_ID_LENGTH (src/stores/sql/table-layouts.ts).
 */
export const MAX_LAYOUT_ID_LENGTH = 255;
/** Longest accepted value of any text field (a 10,000-character value is refused, not cut). */
export const MAX_FIELD_LENGTH = 4096;

const STRING_FIELDS = TOKEN_FIELDS.filter((f) => f !== 'expiryTime' && f !== 'id');

// ---------------------------------------------------------------------------------------------
// Redaction

/** How many leading characters of a secret may be shown. */
export const REDACT_PREFIX = 8;

/** A secret as it may be shown: a short prefix and its length, never the whole value. */
export function redact(secret: string | null | undefined): string {
  if (secret === undefined || secret === null || secret === '') return '(none)';
  const shown = secret.length <= REDACT_PREFIX * 2 ? Math.min(4, Math.floor(secret.length / 4)) : REDACT_PREFIX;
  return `${secret.slice(0, shown)}…(${secret.length} chars)`;
}

/** A copy of the token with every secret field redacted: safe to log or print. */
export function redactToken(token: OAuthToken): Record<string, string | number | undefined> {
  const out: Record<string, string | number | undefined> = {};
  for (const field of TOKEN_FIELDS) {
    const value = token[field];
    if (value === undefined) continue;
    out[field] = (SECRET_FIELDS as readonly string[]).includes(field) ? redact(String(value)) : value;
  }
  return out;
}

/**
 * Zoho's access, refresh and grant tokens look like `1000.<hex>.<hex>`: secrets even when
 * unknown. A cut-off one (`1000.<hex>` with or without a tail) is matched too.
 */
const ZOHO_TOKEN_SHAPE = /\b1000\.[0-9a-f]{8,}(?:\.[0-9a-f]*)?/gi;
/** The value of a secret-bearing key in quoted JSON (a Zoho answer or request echoed in an error). */
const SECRET_KEY_VALUE = /("(?:access_token|refresh_token|id_token|client_secret|code|token)"\s*:\s*")([^"]*)/gi;

/** A value `redact` made: scrubbing it again would only hide its true length. */
const REDACTED = /…\(\d+ chars\)$/;

/**
 * A text safe to show: every whole occurrence of the given secrets redacted, then the values of
 * secret-bearing JSON keys (`"refresh_token":"..."`) and anything shaped like a Zoho token (a
 * driver, a server or a custom store may echo secrets the caller cannot name).
 */
export function scrubSecrets(text: string, secrets: Iterable<string | null | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 6 && out.includes(secret)) out = out.split(secret).join(redact(secret));
  }
  return out
    .replace(SECRET_KEY_VALUE, (_m, key: string, value: string) => `${key}${value && !REDACTED.test(value) ? redact(value) : value}`)
    .replace(ZOHO_TOKEN_SHAPE, (token) => redact(token));
}

/** The secret values of a token, for scrubbing texts that might echo them. */
export function secretsOf(token: OAuthToken | null | undefined): string[] {
  if (!token) return [];
  return SECRET_FIELDS.map((f) => token[f]).filter((v): v is string => typeof v === 'string');
}

// ---------------------------------------------------------------------------------------------
// Validation

function fail(field: string, message: string): never {
  throw new TokenStoreError('INVALID_TOKEN', `Invalid token: ${field} ${message}`, { field });
}

/**
 * Validates an id handed in by a caller (deleteToken, findTokenById, a token's id). `maxLength`
 * is MAX_ID_LENGTH unless the store's table holds longer ids (a uuid, a v2 SDK id).
 */
export function validateId(id: unknown, where = 'id', maxLength = MAX_ID_LENGTH): string {
  if (typeof id !== 'string') {
    throw new TokenStoreError('INVALID_ARGUMENT', `Invalid ${where}: expected a string, got ${typeName(id)}`, {
      field: 'id',
    });
  }
  if (id.length === 0 || id.trim() !== id || id.length > maxLength || /[\u0000-\u001f\u007f]/.test(id)) {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `Invalid ${where}: must be 1 to ${maxLength} characters with no spaces at the ends or control characters (got ${JSON.stringify(id.slice(0, 20))})`,
      { field: 'id' },
    );
  }
  return id;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * Checks a token handed in by a caller and returns a clean copy: only known fields, empty
 * strings and nulls dropped, `expiryTime` a number (digit strings, as Zoho stores them, accepted).
 * Secrets never appear in the error text: fields are named, values are not.
 */
export function normalizeToken(input: unknown, options: { maxIdLength?: number } = {}): OAuthToken {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TokenStoreError('INVALID_TOKEN', `Invalid token: expected an object, got ${typeName(input)}`);
  }
  const source = input as Record<string, unknown>;
  const out: OAuthToken = {};
  if (source.id !== undefined && source.id !== null) out.id = validateId(source.id, 'token id', options.maxIdLength);
  for (const field of STRING_FIELDS) {
    const value = source[field];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') fail(field, `must be a string, got ${typeName(value)}`);
    if (value.length > MAX_FIELD_LENGTH) fail(field, `is ${value.length} characters long; at most ${MAX_FIELD_LENGTH} are allowed`);
    if (value.includes('\u0000')) fail(field, 'contains a NUL character');
    out[field] = value;
  }
  const expiry = source.expiryTime;
  if (expiry !== undefined && expiry !== null && expiry !== '') out.expiryTime = parseExpiry(expiry);
  return out;
}

/** Parses an expiry time (epoch ms) from a number or a string of digits. */
export function parseExpiry(value: unknown, field = 'expiryTime'): number {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    fail(
      field,
      `must be epoch milliseconds (a non-negative whole number), got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 20)) : typeName(value)}`,
    );
  }
  return n;
}

/** Validates a token for saving: it must carry a grant, refresh or access token. */
export function normalizeTokenForSave(input: unknown, options: { maxIdLength?: number } = {}): OAuthToken {
  const token = normalizeToken(input, options);
  if (!token.grantToken && !token.refreshToken && !token.accessToken) {
    const who = token.id !== undefined ? `id ${token.id}` : token.userName !== undefined ? `user ${token.userName}` : 'the token';
    throw new TokenStoreError(
      'INVALID_TOKEN',
      `Invalid token: ${who} has no grantToken, refreshToken or accessToken; one of them is required to save it`,
      { field: 'grantToken' },
    );
  }
  return token;
}

/** A copy that shares nothing with the original (tokens are flat, so a spread suffices). */
export function copyToken<T extends OAuthToken>(token: T): T {
  return { ...token };
}

/** Whether two tokens hold the same values, ids aside (an absent, undefined or null field alike). */
export function sameTokenContent(a: OAuthToken, b: OAuthToken): boolean {
  for (const field of TOKEN_FIELDS) {
    if (field !== 'id' && (a[field] ?? undefined) !== (b[field] ?? undefined)) return false;
  }
  return true;
}

/** Drops undefined fields so stored and returned tokens compare cleanly. */
export function compactToken<T extends OAuthToken>(token: T): T {
  return definedFields(token, token.id) as T;
}

/**
 * The fields of `token` that are not undefined, in TOKEN_FIELDS order, with `id` as given.
 * Written out field by field, not as a loop of computed keys: every save runs it, and a loop's
 * keyed reads and writes cost several times more. `in` before each read, as in lookupRuleOf.
 */
function definedFields(token: OAuthToken, id: string | undefined): OAuthToken {
  const out: OAuthToken = {};
  const t = token as Partial<Record<keyof OAuthToken, unknown>>;
  if (id !== undefined) out.id = id;
  if ('userName' in t && token.userName !== undefined) out.userName = token.userName;
  if ('clientId' in t && token.clientId !== undefined) out.clientId = token.clientId;
  if ('clientSecret' in t && token.clientSecret !== undefined) out.clientSecret = token.clientSecret;
  if ('refreshToken' in t && token.refreshToken !== undefined) out.refreshToken = token.refreshToken;
  if ('accessToken' in t && token.accessToken !== undefined) out.accessToken = token.accessToken;
  if ('grantToken' in t && token.grantToken !== undefined) out.grantToken = token.grantToken;
  if ('expiryTime' in t && token.expiryTime !== undefined) out.expiryTime = token.expiryTime;
  if ('redirectUrl' in t && token.redirectUrl !== undefined) out.redirectUrl = token.redirectUrl;
  if ('apiDomain' in t && token.apiDomain !== undefined) out.apiDomain = token.apiDomain;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Matching (ZOHO.md): the first rule that applies decides which column is compared.

export interface MatchRule {
  field: Exclude<LookupField, 'id'>;
  value: string;
}

/**
 * The rule `findToken(partial)` and `saveToken(token)` use to locate a row:
 * 1. user name present: by user name;
 * 2. else access token present and neither client id nor secret: by access token;
 * 3. else grant token present with client id and secret: by grant token;
 * 4. else refresh token present with client id and secret: by refresh token.
 * Returns null when no rule applies (then nothing matches).
 */
export function matchRule(token: OAuthToken): MatchRule | null {
  if (token.userName) return { field: 'userName', value: token.userName };
  const hasClient = Boolean(token.clientId) || Boolean(token.clientSecret);
  if (token.accessToken && !hasClient) return { field: 'accessToken', value: token.accessToken };
  if (token.clientId && token.clientSecret) {
    if (token.grantToken) return { field: 'grantToken', value: token.grantToken };
    if (token.refreshToken) return { field: 'refreshToken', value: token.refreshToken };
  }
  return null;
}

/** A field matching reads: a string, or absent (undefined, null or empty). */
function ruleField(value: unknown, field: string): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (value === undefined || value === null) return undefined;
  return fail(field, `must be a string, got ${typeName(value)}`);
}

/**
 * The rule for `findToken(partial)`: checks only what matching reads (the hot path of every
 * API call), then applies `matchRule`. Empty strings count as absent, as in normalizeToken.
 * Fields are read by name, not in a loop over names: this runs before every API call.
 */
export function lookupRuleOf(partial: unknown): MatchRule | null {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    throw new TokenStoreError('INVALID_TOKEN', `Invalid token: expected an object, got ${typeName(partial)}`);
  }
  const p = partial as Record<string, unknown>;
  // `in` before each read: on an object made by spread ({ ...client, refreshToken }) Node 20's V8
  // cannot cache a read of an absent property and takes its runtime path, about 0.3 µs per
  // absent field; `in` is cached on every shape. The same values are read as without it.
  const userName = ruleField('userName' in p ? p.userName : undefined, 'userName');
  const accessToken = ruleField('accessToken' in p ? p.accessToken : undefined, 'accessToken');
  const clientId = ruleField('clientId' in p ? p.clientId : undefined, 'clientId');
  const clientSecret = ruleField('clientSecret' in p ? p.clientSecret : undefined, 'clientSecret');
  const grantToken = ruleField('grantToken' in p ? p.grantToken : undefined, 'grantToken');
  const refreshToken = ruleField('refreshToken' in p ? p.refreshToken : undefined, 'refreshToken');
  return matchRule({ userName, accessToken, clientId, clientSecret, grantToken, refreshToken });
}

/** A row finder: the stored token whose `field` equals `value` (lowest id if several), or null. */
export type RowFinder = (field: LookupField, value: string) => StoredToken | null;
export type AsyncRowFinder = (field: LookupField, value: string) => Promise<StoredToken | null>;

/**
 * Where `saveToken` writes: the row with the token's id when there is one, else the row the
 * matching rule finds, else null (insert). Stores call it inside their write transaction; the
 * synchronous form lets in-process stores decide and write without yielding.
 */
export function locateForSave(token: OAuthToken, find: RowFinder): StoredToken | null {
  if (token.id !== undefined) {
    const byId = find('id', token.id);
    if (byId) return byId;
  }
  const rule = matchRule(token);
  return rule ? find(rule.field, rule.value) : null;
}

/** The same rule for stores whose reads are asynchronous (network databases). */
export async function locateForSaveAsync(token: OAuthToken, find: AsyncRowFinder): Promise<StoredToken | null> {
  if (token.id !== undefined) {
    const byId = await find('id', token.id);
    if (byId) return byId;
  }
  const rule = matchRule(token);
  return rule ? await find(rule.field, rule.value) : null;
}

// ---------------------------------------------------------------------------------------------
// Ids: decimal strings, the largest numeric id + 1 ("9" < "10", unlike Zoho's max() on varchar).

const NUMERIC_ID = /^(0|[1-9]\d{0,9})$/;

export function isNumericId(id: string): boolean {
  return NUMERIC_ID.test(id);
}

/** Orders ids numerically when both are numeric, numeric ones first, else as strings. */
export function compareIds(a: string, b: string): number {
  const an = isNumericId(a);
  const bn = isNumericId(b);
  if (an && bn) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The token with the lowest id (compareIds order), or null for none. */
export function lowestId<T extends StoredToken>(tokens: Iterable<T>): T | null {
  let best: T | null = null;
  for (const token of tokens) if (!best || compareIds(token.id, best.id) < 0) best = token;
  return best;
}

/** The id after the largest numeric id (non-numeric ids are ignored). */
export function nextIdAfter(maxNumericId: string | number | null | undefined): string {
  const max = maxNumericId === null || maxNumericId === undefined || maxNumericId === '' ? 0 : Number(maxNumericId);
  const next = max + 1;
  const id = String(next);
  if (!Number.isSafeInteger(next) || id.length > MAX_ID_LENGTH) {
    throw new TokenStoreError('WRITE_FAILED', `Cannot create a new id: ids are at most ${MAX_ID_LENGTH} digits and ${max} is the largest`);
  }
  return id;
}

/** The next id for a set of existing ids. */
export function nextId(ids: Iterable<string>): string {
  let max = 0;
  for (const id of ids) if (isNumericId(id)) max = Math.max(max, Number(id));
  return nextIdAfter(max);
}

/** Builds the stored form of a token that is saved over `existing` (or inserted with `id`). */
export function tokenToStore(token: OAuthToken, id: string): StoredToken {
  return definedFields(token, id) as StoredToken;
}

/** Whether a token's access token is expired (or within `skewMs` of it) at `now`. One rule for all. */
export function isExpired(token: OAuthToken, now: number, skewMs = 0): boolean {
  return token.expiryTime === undefined || token.expiryTime - now <= skewMs;
}
