/**
 * Zoho's token file as tokens: the header (ten columns, or nine in the older layout without
 * api_domain) then one row per token, columns by position. Anything else is a CORRUPT error
 * naming the file and line; a file we cannot read whole is never rewritten.
 */
import { TokenStoreError } from '../../errors.js';
import { rowToToken } from '../../row.js';
import { COLUMN_NAMES, type StoredToken } from '../../token.js';
import { type CsvRecord, CsvSyntaxError, parseCsv } from './csv.js';

/** The header we write: the TypeScript SDK's names (`user_mail`, `redirect_url`). */
export const TOKEN_FILE_HEADER = COLUMN_NAMES.map((name) => (name === 'user_name' ? 'user_mail' : name)).join(',');

const COLUMNS = COLUMN_NAMES.length;
const LEGACY_COLUMNS = COLUMNS - 1;

export function corruptFile(path: string, line: number, problem: string, cause?: unknown): TokenStoreError {
  return new TokenStoreError(
    'CORRUPT',
    `Corrupt token file ${path}, line ${line}: ${problem}. The file was left untouched; fix or move it.`,
    cause === undefined ? undefined : { cause },
  );
}

export interface ParsedTokens {
  /** The tokens in file order. */
  tokens: StoredToken[];
  /** The line each token starts on. */
  lines: number[];
}

/** Parses a token file's text. Ids are checked for uniqueness by the caller (duplicateId). */
export function parseTokenFile(text: string, path: string): ParsedTokens {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw corruptFile(path, error.line, error.problem);
    throw error;
  }
  const parsed: ParsedTokens = { tokens: [], lines: [] };
  const header = records[0];
  if (!header) return parsed;
  const width = header.cells.length;
  if (width !== COLUMNS && width !== LEGACY_COLUMNS) {
    throw corruptFile(
      path,
      header.line,
      `the header has ${width} columns; expected ${COLUMNS} (${COLUMN_NAMES.join(',')}) or ${LEGACY_COLUMNS} (the older layout without api_domain)`,
    );
  }
  if (header.cells[0]?.trim().toLowerCase() !== 'id') {
    throw corruptFile(path, header.line, 'the header does not start with "id": this is not a Zoho token file');
  }
  for (let r = 1; r < records.length; r++) {
    const { cells, line } = records[r]!;
    if (cells.length !== width) throw corruptFile(path, line, `the row has ${cells.length} columns; the header has ${width}`);
    if (width === LEGACY_COLUMNS) cells.push('');
    // rowToToken names file and line itself when expiry_time is not epoch milliseconds.
    parsed.tokens.push(rowToToken(cells, `token file ${path}, line ${line}`));
    parsed.lines.push(line);
  }
  return parsed;
}

/** The error for the row at `index` whose id an earlier row already has. */
export function duplicateId(path: string, parsed: ParsedTokens, index: number): TokenStoreError {
  const id = parsed.tokens[index]!.id;
  const first = parsed.tokens.findIndex((token) => token.id === id);
  return corruptFile(path, parsed.lines[index]!, `id ${JSON.stringify(id)} is already used on line ${parsed.lines[first]}`);
}
