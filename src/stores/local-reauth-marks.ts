/** Re-authorization marks kept in process memory, for the stores that live in one process (Memory, List). */
import { checkReauthMark, inTokenIdOrder, type ReauthMark } from '../reauth-marks.js';
import { MAX_LAYOUT_ID_LENGTH, validateId } from '../token.js';

export class LocalReauthMarks {
  private readonly marks = new Map<string, ReauthMark>();

  set(mark: ReauthMark): void {
    const clean = checkReauthMark(mark);
    this.marks.set(clean.tokenId, clean);
  }

  get(tokenId: string): ReauthMark | null {
    const mark = this.marks.get(validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH));
    return mark ? { ...mark } : null;
  }

  all(): ReauthMark[] {
    return inTokenIdOrder([...this.marks.values()].map((mark) => ({ ...mark })));
  }

  clear(tokenId: string): void {
    this.marks.delete(validateId(tokenId, 'tokenId', MAX_LAYOUT_ID_LENGTH));
  }
}
