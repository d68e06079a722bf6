/**
 * Zoho's token file as tokens: the header, which names the layout (layouts.ts), then one row per
 * token, columns by position. Anything else is a CORRUPT error naming the file and line; a file
 * we cannot read whole is never rewritten.
 */
import { TokenStoreError } from '../../errors.js';
import { rowToToken } from '../../row.js';
import { isNumericId, nextIdAfter, type StoredToken, TOKEN_FIELDS, validateId } from '../../token.js';
import { type CsvRecord, CsvSyntaxError, parseCsv } from './csv.js';
import { FILE_LAYOUTS, type FileLayout, knownHeaders, layoutOfHeader } from './layouts.js';

/** The default layout's header (the TypeScript SDK's: `user_mail`, `redirect_url`). */
export const TOKEN_FILE_HEADER = FILE_LAYOUTS['ts-8'].header.join(',');

/** The error for a file the store will not read; `remedy` says what to do (default: fix or move it). */
export function corruptFile(path: string, line: number, problem: string, remedy = 'fix or move it'): TokenStoreError {
  return new TokenStoreError('CORRUPT', `Corrupt token file ${path}, line ${line}: ${problem}. The file was left untouched; ${remedy}.`);
}

export interface ParsedTokens {
  /** The file's layout; null for a file without a header (empty). */
  layout: FileLayout | null;
  /** The header line as read (written back as it was). */
  header: string;
  /** The tokens in file order. */
  tokens: StoredToken[];
  /** The line each token starts on. */
  lines: number[];
  /** How many rows got an id the file does not hold ('lenient' layouts); the next write stores them. */
  assignedIds: number;
}

const ID_INDEX = TOKEN_FIELDS.indexOf('id');

/** Parses a token file's text. Ids are checked for uniqueness by the caller (duplicateId). */
export function parseTokenFile(text: string, path: string): ParsedTokens {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw corruptFile(path, error.line, error.problem);
    throw error;
  }
  const header = records[0];
  const parsed: ParsedTokens = { layout: null, header: '', tokens: [], lines: [], assignedIds: 0 };
  if (!header) return parsed;
  const layout = layoutOfHeader(header.cells);
  // The header's text is never shown: a file without one starts with a row of secrets.
  if (!layout) {
    throw corruptFile(
      path,
      header.line,
      header.cells.length === 10 || header.cells.length === 9
        ? 'the header does not start with "id": this is not a Zoho token file'
        : `the header has ${header.cells.length} columns; expected one of: ${knownHeaders()}`,
    );
  }
  parsed.layout = layout;
  parsed.header = header.cells.join(',');
  const width = layout.fields.length;
  const unassigned: number[] = [];
  for (let r = 1; r < records.length; r++) {
    const { cells, line } = records[r]!;
    if (cells.length !== width) throw corruptFile(path, line, `the row has ${cells.length} columns; the header has ${width}`);
    const row: (string | null)[] = TOKEN_FIELDS.map(() => null);
    layout.fields.forEach((field, i) => {
      row[TOKEN_FIELDS.indexOf(field)] = cells[i]!;
    });
    if (layout.ids === 'row') row[ID_INDEX] = String(r);
    else if (layout.ids === 'lenient' && !isOurId(row[ID_INDEX])) {
      row[ID_INDEX] = '0'; // replaced below, once the largest id in the file is known
      unassigned.push(parsed.tokens.length);
    }
    // rowToToken names file and line itself when expiry_time is not epoch milliseconds.
    parsed.tokens.push(rowToToken(row, `token file ${path}, line ${line}`));
    parsed.lines.push(line);
  }
  if (unassigned.length > 0) assignIds(parsed, unassigned);
  return parsed;
}

/** Whether a file's id cell is an id we can hand out (1 to 10 characters, no spaces at the ends). */
function isOurId(cell: string | null | undefined): boolean {
  if (!cell) return false;
  try {
    validateId(cell);
    return true;
  } catch {
    return false;
  }
}

/**
 * New ids for the tokens at `indexes` (in that order): the numbers after the largest numeric id
 * of the other tokens, as every new id (nextIdAfter). Deterministic, so every process reading the
 * same file agrees on them. The tokens are not changed.
 */
export function idsAfterLargest(tokens: readonly StoredToken[], indexes: readonly number[]): string[] {
  const renumbered = new Set(indexes);
  let max = 0;
  tokens.forEach((token, i) => {
    if (!renumbered.has(i) && isNumericId(token.id)) max = Math.max(max, Number(token.id));
  });
  return indexes.map(() => {
    const id = nextIdAfter(max);
    max = Number(id);
    return id;
  });
}

/** Gives rows without a usable id (empty, or an SDK-made id longer than ours) new ids (idsAfterLargest). */
function assignIds(parsed: ParsedTokens, indexes: readonly number[]): void {
  idsAfterLargest(parsed.tokens, indexes).forEach((id, i) => {
    parsed.tokens[indexes[i]!]!.id = id;
  });
  parsed.assignedIds = indexes.length;
}

/** The error for the row at `index` whose id an earlier row already has. */
export function duplicateId(path: string, parsed: ParsedTokens, index: number): TokenStoreError {
  const id = parsed.tokens[index]!.id;
  const first = parsed.tokens.findIndex((token) => token.id === id);
  // typescript-sdk 6.0 and 7.0 build new ids from the first digit of each id, so every token
  // from their 11th on gets id 10 (8.0 fixed it): name the likely cause.
  const hint = id === '10' ? ' (typescript-sdk 6.0 and 7.0 give every token from the 11th on the id 10; see docs/file-layouts.md)' : '';
  return corruptFile(
    path,
    parsed.lines[index]!,
    `id ${JSON.stringify(id)} is already used on line ${parsed.lines[first]}${hint}`,
    `to give each repeated id a new one, keeping every token: ztoken repair-ids --store file:${path} (add --dry-run to see the changes first)`,
  );
}
