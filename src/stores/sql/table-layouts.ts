/**
 * The token tables of every official Zoho SDK, in one table: which column holds each of our
 * fields (Zoho's ten columns of today's SDKs are the canonical names), which fields a layout has
 * no column for (those are absent, never faked), how new ids are made, and which of our own
 * indexes are safe to add for the program that shares the table. A table made by another program
 * is used as it is: its layout is detected from its columns (detectLayout), never changed.
 * docs/sql-layouts.md describes each layout for users.
 */
import { TokenStoreError } from '../../errors.js';
import { COLUMN_NAMES, type ColumnName, MAX_ID_LENGTH, MAX_LAYOUT_ID_LENGTH, TOKEN_FIELDS, type TokenField } from '../../token.js';

export const TABLE_LAYOUT_NAMES = ['zoho-v6', 'zoho-v2', 'zcrmsdk', 'python'] as const;
export type TableLayoutName = (typeof TABLE_LAYOUT_NAMES)[number];

export interface TableLayout {
  name: TableLayoutName;
  /** Who writes such a table. */
  writtenBy: string;
  /** The table's column for each canonical column; a canonical column missing here is absent. */
  columns: Partial<Record<ColumnName, string>>;
  /** Columns in the order our CREATE TABLE writes them (a new table of this layout). */
  createOrder: readonly string[];
  /** Width of the id column our CREATE TABLE writes ('integer': a whole-number id). */
  idColumn: number | 'integer';
  /** How this store makes the id of a new row: largest numeric id + 1, or a random uuid (v4). */
  newIds: 'numeric' | 'uuid';
  /** Longest id the layout holds. */
  maxIdLength: number;
  /** Text the other program writes where it means "no value" (zcrmsdk writes the text 'null'). */
  nullText?: string;
  /** Name of our index on a lookup column of `table` (Python: SQLAlchemy's `ix_<table>_<column>`). */
  indexName(table: string, column: string): string;
  /**
   * Whether the id-number index (PostgreSQL/SQLite expression index, MySQL invisible generated
   * column) is added. Only for text ids that are counted up; integer ids use the primary key and
   * uuid ids need no largest id.
   */
  idNumberIndex: boolean;
}

const ZOHO_TEN = Object.fromEntries(COLUMN_NAMES.map((c) => [c, c])) as Record<ColumnName, string>;
const ourIndex = (table: string, column: string) => `${table}_${column}_idx`.slice(0, 63);

export const TABLE_LAYOUTS: Record<TableLayoutName, TableLayout> = {
  'zoho-v6': {
    name: 'zoho-v6',
    writtenBy: 'typescript-sdk 6.0/7.0/8.0 and nodejs-sdk 7.0/8.0 DBStore (and this package by default)',
    columns: ZOHO_TEN,
    createOrder: COLUMN_NAMES,
    idColumn: MAX_ID_LENGTH,
    newIds: 'numeric',
    maxIdLength: MAX_ID_LENGTH,
    indexName: ourIndex,
    idNumberIndex: true,
  },
  'zoho-v2': {
    name: 'zoho-v2',
    writtenBy: 'typescript-sdk 2.0/2.1 and nodejs-sdk 2.0 DBStore',
    columns: {
      id: 'id',
      user_name: 'user_mail',
      client_id: 'client_id',
      client_secret: 'client_secret',
      refresh_token: 'refresh_token',
      access_token: 'access_token',
      grant_token: 'grant_token',
      expiry_time: 'expiry_time',
      redirect_url: 'redirect_url',
    },
    createOrder: [
      'id',
      'user_mail',
      'client_id',
      'client_secret',
      'refresh_token',
      'access_token',
      'grant_token',
      'expiry_time',
      'redirect_url',
    ],
    idColumn: MAX_LAYOUT_ID_LENGTH,
    newIds: 'numeric',
    maxIdLength: MAX_LAYOUT_ID_LENGTH,
    indexName: ourIndex,
    idNumberIndex: true,
  },
  zcrmsdk: {
    name: 'zcrmsdk',
    writtenBy: 'zcrmsdk 1.x (the old Node SDK) DBStore',
    columns: {
      id: 'id',
      user_name: 'user_mail',
      client_id: 'client_id',
      refresh_token: 'refresh_token',
      access_token: 'access_token',
      grant_token: 'grant_token',
      expiry_time: 'expiry_time',
    },
    createOrder: ['id', 'user_mail', 'client_id', 'refresh_token', 'access_token', 'grant_token', 'expiry_time'],
    idColumn: 'integer',
    newIds: 'numeric',
    maxIdLength: MAX_ID_LENGTH,
    nullText: 'null',
    indexName: ourIndex,
    idNumberIndex: false,
  },
  python: {
    name: 'python',
    writtenBy: 'Python SDK 8.0 MultiDBStore (SQLAlchemy)',
    columns: ZOHO_TEN,
    createOrder: [
      'id',
      'user_name',
      'client_id',
      'client_secret',
      'refresh_token',
      'access_token',
      'grant_token',
      'redirect_url',
      'api_domain',
      'expiry_time',
    ],
    idColumn: 36,
    newIds: 'uuid',
    maxIdLength: 36,
    indexName: (table, column) => `ix_${table}_${column}`.slice(0, 63),
    idNumberIndex: false,
  },
};

/** The layout named by an option or a URL parameter; a name we do not know is refused, listing ours. */
export function tableLayoutOption(store: string, value: unknown): TableLayout | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (TABLE_LAYOUT_NAMES as readonly string[]).includes(value))
    return TABLE_LAYOUTS[value as TableLayoutName];
  throw new TokenStoreError(
    'INVALID_ARGUMENT',
    `Invalid ${store} layout ${typeof value === 'string' ? JSON.stringify(value.slice(0, 30)) : `(a ${typeof value})`}: expected one of ${TABLE_LAYOUT_NAMES.join(', ')}`,
  );
}

/** The token fields a layout has no column for. */
export function absentFields(layout: TableLayout): TokenField[] {
  return TOKEN_FIELDS.filter((_, i) => layout.columns[COLUMN_NAMES[i] as ColumnName] === undefined);
}

/** The lookup columns (canonical names) every layout indexes: the matching rules read them. */
export const LOOKUP_COLUMNS: readonly ColumnName[] = ['user_name', 'refresh_token', 'access_token', 'grant_token'];

/** What the engine says about one column of an existing table. */
export interface ColumnFacts {
  name: string;
  /** Declared width in characters, when the column has one. */
  maxLength?: number;
  /** A whole-number column (int, integer, bigint, ...). */
  integer: boolean;
  /** NOT NULL without a default: every insert must give it a value. */
  required: boolean;
}

/**
 * The layout of an existing table, from its columns. `requested` (the store's layout option) must
 * agree with the table; without it the columns decide: user_name with a 36-character id is the
 * Python table, user_name otherwise today's SDKs, user_mail with client_secret the v2 SDKs,
 * user_mail without it zcrmsdk. A table that fits no layout is refused, naming what it lacks.
 */
export function detectLayout(columns: readonly ColumnFacts[], requested: TableLayout | undefined, where: string): TableLayout {
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const lacks = (layout: TableLayout) => Object.values(layout.columns).filter((c) => !byName.has(c));
  const fits = TABLE_LAYOUT_NAMES.map((n) => TABLE_LAYOUTS[n]).filter((l) => lacks(l).length === 0);
  const idWidth = byName.get('id')?.maxLength;
  if (requested) {
    if (!fits.includes(requested)) {
      const missing = lacks(requested);
      throw new TokenStoreError(
        'CORRUPT',
        `Table in ${where} is not a ${requested.name} table (${requested.writtenBy}): it lacks column(s) ${missing.join(', ')}${fits[0] ? `; its columns are those of layout ${fits[0].name}` : ''}`,
      );
    }
    if (requested.newIds === 'uuid' && idWidth !== undefined && idWidth < requested.maxIdLength) {
      throw new TokenStoreError(
        'CORRUPT',
        `Table in ${where} cannot be a ${requested.name} table: its id column holds ${idWidth} characters and a uuid needs ${requested.maxIdLength}`,
      );
    }
    return requested;
  }
  const hasUserName = byName.has('user_name');
  const hasUserMail = byName.has('user_mail');
  let found: TableLayout | undefined;
  if (hasUserName && !hasUserMail) {
    found = fits.includes(TABLE_LAYOUTS.python) && idWidth === 36 ? TABLE_LAYOUTS.python : fits.find((l) => l.name === 'zoho-v6');
  } else if (hasUserMail && !hasUserName) {
    found = fits.find((l) => l.name === 'zoho-v2') ?? fits.find((l) => l.name === 'zcrmsdk');
  }
  if (found) return found;
  const nearest = hasUserMail ? (byName.has('client_secret') ? TABLE_LAYOUTS['zoho-v2'] : TABLE_LAYOUTS.zcrmsdk) : TABLE_LAYOUTS['zoho-v6'];
  const why =
    hasUserName && hasUserMail
      ? 'it has both user_name and user_mail'
      : `it lacks column(s) ${lacks(nearest).join(', ')} of layout ${nearest.name} (${nearest.writtenBy})`;
  throw new TokenStoreError(
    'CORRUPT',
    `Table in ${where} is not a token table of any known layout (${TABLE_LAYOUT_NAMES.join(', ')}): ${why}; its columns are ${columns
      .map((c) => c.name)
      .slice(0, 20)
      .join(', ')}`,
  );
}

/** The canonical columns whose table column is NOT NULL without default (id aside): saves must fill them. */
export function requiredColumns(layout: TableLayout, columns: readonly ColumnFacts[]): ColumnName[] {
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  return COLUMN_NAMES.filter(
    (c) => c !== 'id' && layout.columns[c] !== undefined && byName.get(layout.columns[c] as string)?.required === true,
  );
}

/** Declared widths per canonical column, from the table's own columns. */
export function columnWidths(layout: TableLayout, columns: readonly ColumnFacts[]): Partial<Record<ColumnName, number>> {
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const out: Partial<Record<ColumnName, number>> = {};
  for (const c of COLUMN_NAMES) {
    const column = layout.columns[c];
    const width = column === undefined ? undefined : byName.get(column)?.maxLength;
    if (width !== undefined) out[c] = width;
  }
  return out;
}
