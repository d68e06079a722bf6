/** TokenManager events: each fires only after the store write it reports has succeeded. */
import { EventEmitter } from 'node:events';

/** What an event says about a token: never a secret. */
export interface TokenEventInfo {
  id: string;
  userName: string | undefined;
  apiDomain: string | undefined;
  expiryTime: number | undefined;
}

export type TokenManagerEvents = {
  /** A new access token was obtained with a refresh token and saved. */
  refresh: [TokenEventInfo];
  /** A token was saved (after authorize or refresh). */
  save: [TokenEventInfo];
  /** A token was revoked at Zoho and deleted locally. */
  revoke: [TokenEventInfo];
  /** Something failed in the background or was absorbed (e.g. throttled, a still-valid token served). */
  error: [Error];
};

export class TypedEmitter<Events extends Record<string, unknown[]>> {
  private readonly emitter = new EventEmitter();
  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
  off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }
  once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }
  protected emit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    // An 'error' with no listener must not crash the process: errors are also thrown or logged.
    if (event === 'error' && this.emitter.listenerCount('error') === 0) return;
    this.emitter.emit(event, ...args);
  }
}
