/**
 * The token file layouts of Zoho's SDKs, read from their installed FileStore code:
 * - 'ts-8': typescript-sdk 6.0, 7.0 and 8.0: `id,user_mail,...,redirect_url,api_domain`, `\n`
 *   between rows, no final line end (today's default);
 * - 'nodejs-8': nodejs-sdk 7.0 and 8.0: the same with `user_name`;
 * - 'v2': typescript-sdk 2.0 and 2.1, nodejs-sdk 2.0: nine columns, `user_mail`, no api_domain;
 * - 'zcrmsdk': zcrmsdk 1.x: six columns and no id: `user_mail,client_id,refresh_token,
 *   access_token,grant_token,expiry_time`;
 * - 'python': the Python SDK 8.0: `user_name`, `redirect_uri`, csv-module quoting, `\r\n` after
 *   every row (the fixture in ../shared/fixtures).
 * Every Node SDK reads its file with a plain `split(",")`, so those layouts cannot hold a comma,
 * a quote or a line break in a value; the Python csv module can.
 */
import { TokenStoreError } from '../../errors.js';
import { type OAuthToken, TOKEN_FIELDS, type TokenField } from '../../token.js';

export const FILE_LAYOUT_NAMES = ['ts-8', 'nodejs-8', 'v2', 'zcrmsdk', 'python'] as const;
export type FileLayoutName = (typeof FILE_LAYOUT_NAMES)[number];
export const DEFAULT_FILE_LAYOUT: FileLayoutName = 'ts-8';

/**
 * Where a row's id comes from:
 * - 'column': the id column, as our ids (1 to 10 characters);
 * - 'lenient': the id column, but the SDK may leave it empty or write ids longer than ours
 *   (v2's `typescript_<email>_<env>_<refresh tail>`): such rows get a numeric id, written at the
 *   next write;
 * - 'row': there is no id column: the id is the row's number (1 for the first token).
 */
export type IdSource = 'column' | 'lenient' | 'row';

export interface FileLayout {
  name: FileLayoutName;
  /** The SDKs that write it, for messages and docs. */
  sdks: string;
  /** The header cells, in file order. */
  header: readonly string[];
  /** The token field each column holds, in file order. */
  fields: readonly TokenField[];
  ids: IdSource;
  /** The official reader splits lines on commas: a value with a comma, quote or line break would be misread. */
  plainSplit: boolean;
  /** Between rows (and after the last one when `finalEol`). */
  eol: '\n' | '\r\n';
  finalEol: boolean;
}

const TEN: readonly TokenField[] = TOKEN_FIELDS;
const NINE: readonly TokenField[] = TOKEN_FIELDS.filter((f) => f !== 'apiDomain');
const SIX: readonly TokenField[] = ['userName', 'clientId', 'refreshToken', 'accessToken', 'grantToken', 'expiryTime'];
const TAIL = ['client_id', 'client_secret', 'refresh_token', 'access_token', 'grant_token', 'expiry_time'];

export const FILE_LAYOUTS: Readonly<Record<FileLayoutName, FileLayout>> = {
  'ts-8': {
    name: 'ts-8',
    sdks: '@zohocrm/typescript-sdk-6.0, -7.0 and -8.0',
    header: ['id', 'user_mail', ...TAIL, 'redirect_url', 'api_domain'],
    fields: TEN,
    ids: 'column',
    plainSplit: true,
    eol: '\n',
    finalEol: false,
  },
  'nodejs-8': {
    name: 'nodejs-8',
    sdks: '@zohocrm/nodejs-sdk-7.0 and -8.0',
    header: ['id', 'user_name', ...TAIL, 'redirect_url', 'api_domain'],
    fields: TEN,
    ids: 'column',
    plainSplit: true,
    eol: '\n',
    finalEol: false,
  },
  v2: {
    name: 'v2',
    sdks: '@zohocrm/typescript-sdk-2.0 and -2.1, @zohocrm/nodejs-sdk-2.0',
    header: ['id', 'user_mail', ...TAIL, 'redirect_url'],
    fields: NINE,
    ids: 'lenient',
    plainSplit: true,
    eol: '\n',
    finalEol: false,
  },
  zcrmsdk: {
    name: 'zcrmsdk',
    sdks: 'zcrmsdk 1.x',
    header: ['user_mail', 'client_id', 'refresh_token', 'access_token', 'grant_token', 'expiry_time'],
    fields: SIX,
    ids: 'row',
    plainSplit: true,
    eol: '\n',
    finalEol: false,
  },
  python: {
    name: 'python',
    sdks: 'the Python SDK (zohocrmsdk8_0)',
    header: ['id', 'user_name', ...TAIL, 'redirect_uri', 'api_domain'],
    fields: TEN,
    ids: 'column',
    plainSplit: false,
    eol: '\r\n',
    finalEol: true,
  },
};

/** The fields of a token the layout has no column for (kept in memory only). */
export function missingFields(layout: FileLayout): TokenField[] {
  return TOKEN_FIELDS.filter((field) => !layout.fields.includes(field));
}

/** A layout name given as an option or URL parameter; anything else is an error listing the names. */
export function layoutNamed(value: unknown): FileLayoutName {
  if (typeof value === 'string' && (FILE_LAYOUT_NAMES as readonly string[]).includes(value)) return value as FileLayoutName;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 20)) : `(a ${value === null ? 'null' : typeof value})`;
  throw new TokenStoreError(
    'INVALID_ARGUMENT',
    `Invalid FileStore option layout ${shown}: expected one of ${FILE_LAYOUT_NAMES.join(', ')}`,
  );
}

const normalize = (cell: string) => cell.trim().toLowerCase();

/**
 * The layout a header names: an exact match of its names (case and spaces aside), else by width
 * for a header that starts with `id` (10 columns: the TypeScript layout, 9: v2), the columns
 * being read by position as the SDKs read them. Null when it is none of them.
 */
export function layoutOfHeader(cells: readonly string[]): FileLayout | null {
  const names = cells.map(normalize);
  for (const layout of Object.values(FILE_LAYOUTS)) {
    if (layout.header.length === names.length && layout.header.every((name, i) => name === names[i])) return layout;
  }
  if (names[0] !== 'id') return null;
  if (names.length === TEN.length) return FILE_LAYOUTS['ts-8'];
  if (names.length === NINE.length) return FILE_LAYOUTS.v2;
  return null;
}

/** The widths and names the reader accepts, for the error about any other header. */
export function knownHeaders(): string {
  return Object.values(FILE_LAYOUTS)
    .map((layout) => `${layout.header.length} columns (${layout.name}: ${layout.header.join(',')})`)
    .join('; ');
}

/** A token's cells in the layout's column order, null where absent. */
export function rowCells(layout: FileLayout, token: OAuthToken): (string | null)[] {
  return layout.fields.map((field) => {
    const value = token[field];
    return value === undefined ? null : String(value);
  });
}

const SPLIT_BREAKERS: readonly [string, string][] = [
  [',', 'a comma'],
  ['"', 'a double quote'],
  ['\n', 'a line break'],
  ['\r', 'a carriage return'],
];

/**
 * Refuses a token the official reader of a comma-split layout would misread: a value with a
 * comma, quote or line break in a column the layout writes. The message names field and layout,
 * never the value (it may be a secret).
 */
export function checkWritable(layout: FileLayout, token: OAuthToken): void {
  if (!layout.plainSplit) return;
  for (const field of layout.fields) {
    const value = token[field];
    if (typeof value !== 'string') continue;
    const breaker = SPLIT_BREAKERS.find(([char]) => value.includes(char));
    if (breaker) {
      throw new TokenStoreError(
        'INVALID_TOKEN',
        `Invalid token: ${field} contains ${breaker[1]}, which the ${layout.name} token file layout cannot hold (${layout.sdks} read the file with a plain comma split, so they would misread the row); nothing was written. Use a FileStore with layout 'python' or a database store for such values.`,
        { field },
      );
    }
  }
}
