/**
 * What the store knows of the file: its rows in file order (with cached bytes), an index per
 * lookup field and the largest numeric id. Built from the parsed file, changed in place by
 * saves and deletes, and written back whole.
 */
import { isNumericId, type LookupField, type StoredToken } from '../../token.js';
import { RowChunks } from './row-chunks.js';
import { TokenIndex } from './token-index.js';
import { TOKEN_FILE_HEADER } from './token-file.js';

const HEADER_BYTES = Buffer.from(TOKEN_FILE_HEADER, 'utf8');

export class FileImage {
  private readonly rows = new RowChunks();
  private readonly index = new TokenIndex(() => this.rows.tokens());
  /** Largest numeric id; null after it was deleted (recomputed when next needed). */
  private maxId: number | null = 0;

  /**
   * The image of parsed rows in file order. Ids are unique in a token file: `onDuplicate` is
   * called with the index of the first row that repeats an earlier id, and must throw.
   */
  static of(tokens: readonly StoredToken[], onDuplicate: (index: number) => never): FileImage {
    const image = new FileImage();
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
    const id = field === 'id' ? value : this.index.find(field, value);
    return id === undefined ? null : (this.rows.get(id) ?? null);
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
    return true;
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

  /** The whole file as buffers to write in order: header, then `\n<row>` per token, no final line end. */
  encode(): Buffer[] {
    return [HEADER_BYTES, ...this.rows.encode()];
  }
}
