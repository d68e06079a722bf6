/**
 * What the store knows of the file: its layout and header, its rows in file order (with cached
 * bytes), an index per lookup field and the largest numeric id. Built from the parsed file,
 * changed in place by saves and deletes, and written back whole in the file's own layout.
 */
import { isNumericId, type LookupField, type StoredToken } from '../../token.js';
import { formatRow } from './csv.js';
import type { FileLayout } from './layouts.js';
import { RowChunks } from './row-chunks.js';
import { TokenIndex } from './token-index.js';

export class FileImage {
  private readonly rows: RowChunks;
  private readonly index = new TokenIndex(() => this.rows.tokens());
  private readonly headerBytes: Buffer;
  /** Largest numeric id; null after it was deleted (recomputed when next needed). */
  private maxId: number | null = 0;

  /** `header` is the header line as read; a new file gets the layout's own. */
  constructor(
    readonly layout: FileLayout,
    header?: string,
  ) {
    this.rows = new RowChunks(layout);
    this.headerBytes = Buffer.from(header || formatRow(layout.header), 'utf8');
  }

  /**
   * The image of parsed rows in file order. Ids are unique in a token file: `onDuplicate` is
   * called with the index of the first row that repeats an earlier id, and must throw.
   */
  static of(layout: FileLayout, header: string, tokens: readonly StoredToken[], onDuplicate: (index: number) => never): FileImage {
    const image = new FileImage(layout, header);
    tokens.forEach((token, i) => {
      if (image.rows.get(token.id)) onDuplicate(i);
      image.put(token);
    });
    return image;
  }

  get size(): number {
    return this.rows.size;
  }

  find(field: LookupField, value: string): StoredToken | null {
    return (field === 'id' ? this.rows.get(value) : this.index.find(field, value)) ?? null;
  }

  /** Every token in file order (the stored objects: copy before handing out). */
  tokens(): StoredToken[] {
    return this.rows.tokens();
  }

  /** Inserts the token, or replaces the row with its id in place. */
  put(token: StoredToken): void {
    const old = this.rows.get(token.id);
    if (old) this.index.remove(old);
    this.rows.set(token);
    this.index.add(token);
    if (this.maxId !== null && isNumericId(token.id)) this.maxId = Math.max(this.maxId, Number(token.id));
  }

  delete(id: string): boolean {
    const old = this.rows.delete(id);
    if (!old) return false;
    this.index.remove(old);
    if (isNumericId(id) && Number(id) === this.maxId) this.maxId = null;
    if (this.layout.ids === 'row') this.renumber();
    return true;
  }

  /** Where ids are row numbers, the rows after a deleted one move up: as a fresh read numbers them. */
  private renumber(): void {
    const tokens = this.rows.tokens();
    this.clear();
    tokens.forEach((token, i) => {
      this.put({ ...token, id: String(i + 1) });
    });
  }

  clear(): void {
    this.rows.clear();
    this.index.clear();
    this.maxId = 0;
  }

  maxNumericId(): number {
    if (this.maxId === null) {
      let max = 0;
      for (const id of this.rows.ids()) if (isNumericId(id)) max = Math.max(max, Number(id));
      this.maxId = max;
    }
    return this.maxId;
  }

  /** The whole file as buffers to write in order: header, then `<eol><row>` per token, and the final line end if the layout has one. */
  encode(): Buffer[] {
    const parts = [this.headerBytes, ...this.rows.encode()];
    if (this.layout.finalEol) parts.push(Buffer.from(this.layout.eol));
    return parts;
  }
}
