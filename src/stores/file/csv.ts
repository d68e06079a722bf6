/**
 * The CSV of Zoho's token files. Reading accepts what both official SDKs write: `\n` or `\r\n`
 * line ends, RFC-4180 quoting (the Python SDK quotes minimally; the TypeScript SDK never does),
 * a trailing line end or none, blank lines, a UTF-8 byte order mark. Writing quotes only the
 * values a naive comma split would break (comma, quote, CR, LF), so every other row is exactly
 * what the TypeScript SDK writes.
 */

export interface CsvRecord {
  cells: string[];
  /** 1-based line where the record starts. */
  line: number;
}

/** A syntax error at a line; the caller adds the file name. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const LF = 10;
const CR = 13;

/** Splits text into records. Lines that are empty or only whitespace are skipped. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  // Next quote at or after pos, found once and reused: most files hold no quote at all.
  let nextQuote = text.indexOf('"', pos);
  while (pos < n) {
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = n;
    if (nextQuote !== -1 && nextQuote < pos) nextQuote = text.indexOf('"', pos);
    if (nextQuote === -1 || nextQuote >= eol) {
      // Fast path: a line without quotes is a plain comma split.
      const end = eol > pos && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
      const content = text.slice(pos, end);
      if (content.trim() !== '') records.push({ cells: content.split(','), line });
      pos = eol + 1;
      line++;
      continue;
    }
    const record = parseQuotedRecord(text, pos, line);
    records.push({ cells: record.cells, line });
    pos = record.next;
    line = record.nextLine;
  }
  return records;
}

/** Parses one record that holds at least one quote, cell by cell; it may span lines. */
function parseQuotedRecord(text: string, start: number, startLine: number): { cells: string[]; next: number; nextLine: number } {
  const n = text.length;
  const cells: string[] = [];
  let pos = start;
  let line = startLine;
  for (;;) {
    if (text.charCodeAt(pos) === QUOTE) {
      let value = '';
      pos++;
      for (;;) {
        const close = text.indexOf('"', pos);
        if (close === -1) throw new CsvSyntaxError(startLine, 'a quoted value is never closed (missing ")');
        const piece = text.slice(pos, close);
        value += piece;
        line += countLineFeeds(piece);
        if (text.charCodeAt(close + 1) === QUOTE) {
          value += '"';
          pos = close + 2;
          continue;
        }
        pos = close + 1;
        break;
      }
      cells.push(value);
      const c = text.charCodeAt(pos);
      if (c === COMMA) {
        pos++;
        continue;
      }
      if (pos >= n) return { cells, next: n, nextLine: line + 1 };
      if (c === LF) return { cells, next: pos + 1, nextLine: line + 1 };
      if (c === CR && (pos + 1 >= n || text.charCodeAt(pos + 1) === LF)) return { cells, next: pos + 2, nextLine: line + 1 };
      throw new CsvSyntaxError(line, 'unexpected text after a closing quote (a value with a quote must be quoted whole)');
    }
    // Unquoted cell: up to the next comma or line end. A quote inside it is taken literally.
    let stop = pos;
    while (stop < n) {
      const c = text.charCodeAt(stop);
      if (c === COMMA || c === LF) break;
      stop++;
    }
    const endsLine = stop >= n || text.charCodeAt(stop) === LF;
    const end = endsLine && stop > pos && text.charCodeAt(stop - 1) === CR ? stop - 1 : stop;
    cells.push(text.slice(pos, end));
    if (!endsLine) {
      pos = stop + 1;
      continue;
    }
    return { cells, next: stop + 1, nextLine: line + 1 };
  }
}

function countLineFeeds(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One cell as written: as is, or quoted with inner quotes doubled when a comma split would break it. */
export function formatCell(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One row as written, null cells empty (as the TypeScript SDK writes null). */
export function formatRow(cells: readonly (string | null)[]): string {
  let out = '';
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (i > 0) out += ',';
    if (cell) out += formatCell(cell);
  }
  return out;
}
