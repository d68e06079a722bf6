import { TokenStoreError } from '../errors.js';

/** Guards a store against use after close(). */
export class ClosedGuard {
  private closed = false;
  constructor(private readonly storeName: string) {}
  close(): boolean {
    const wasOpen = !this.closed;
    this.closed = true;
    return wasOpen;
  }
  check(): void {
    if (this.closed) throw new TokenStoreError('CLOSED', `${this.storeName} is closed`);
  }
}
