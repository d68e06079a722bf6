/**
 * The rows of the token file in file order, with their serialized bytes cached in chunks of
 * CHUNK_ROWS rows. Saving one token re-encodes one chunk, not the whole file, and the file is
 * written with writev straight from the cached chunks: no join or re-encode of 100,000 rows.
 */
import type { StoredToken } from '../../token.js';
import { formatRow } from './csv.js';
import { type FileLayout, rowCells } from './layouts.js';

const CHUNK_ROWS = 256;

interface Chunk {
  rows: Row[];
  /** Every row of the chunk as `<eol><line>`, or null when a row changed since. */
  bytes: Buffer | null;
}

interface Row {
  token: StoredToken;
  chunk: Chunk;
}

export class RowChunks {
  private readonly chunks: Chunk[] = [];
  private readonly byId = new Map<string, Row>();

  constructor(private readonly layout: FileLayout) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): StoredToken | undefined {
    return this.byId.get(id)?.token;
  }

  ids(): IterableIterator<string> {
    return this.byId.keys();
  }

  tokens(): StoredToken[] {
    const out: StoredToken[] = [];
    for (const row of this.byId.values()) out.push(row.token);
    return out;
  }

  /** Replaces the row with the token's id where it stands, or appends a new row. */
  set(token: StoredToken): void {
    const row = this.byId.get(token.id);
    if (row) {
      row.token = token;
      row.chunk.bytes = null;
      return;
    }
    let last = this.chunks[this.chunks.length - 1];
    if (!last || last.rows.length >= CHUNK_ROWS) {
      last = { rows: [], bytes: null };
      this.chunks.push(last);
    }
    const added: Row = { token, chunk: last };
    last.rows.push(added);
    last.bytes = null;
    this.byId.set(token.id, added);
  }

  delete(id: string): StoredToken | undefined {
    const row = this.byId.get(id);
    if (!row) return undefined;
    this.byId.delete(id);
    const chunk = row.chunk;
    chunk.rows.splice(chunk.rows.indexOf(row), 1);
    chunk.bytes = null;
    if (chunk.rows.length === 0) this.chunks.splice(this.chunks.indexOf(chunk), 1);
    return row.token;
  }

  clear(): void {
    this.chunks.length = 0;
    this.byId.clear();
  }

  /** The file's bytes after the header, as buffers to write in order. */
  encode(): Buffer[] {
    return this.chunks.map((chunk) => (chunk.bytes ??= this.encodeChunk(chunk)));
  }

  private encodeChunk(chunk: Chunk): Buffer {
    const { eol } = this.layout;
    let text = '';
    for (const row of chunk.rows) text += `${eol}${formatRow(rowCells(this.layout, row.token))}`;
    return Buffer.from(text, 'utf8');
  }
}
