import { MemoryStore } from '../../src/stores/memory.js';
import type { TokenStore } from '../../src/store.js';
import { TokenManager, type TokenManagerOptions } from '../../src/manager/token-manager.js';
import { DEFAULT_CLIENT, type Emulator, startEmulator } from '../../src/zoho/emulator/index.js';

/** Counts store calls, to prove the cache serves valid tokens without store I/O. */
export class CountingStore implements TokenStore {
  calls: Record<string, number> = {};
  failSaves = false;
  constructor(readonly inner: TokenStore = new MemoryStore()) {}
  private count(name: string) {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }
  findToken(...a: Parameters<TokenStore['findToken']>) {
    this.count('findToken');
    return this.inner.findToken(...a);
  }
  findTokenById(...a: Parameters<TokenStore['findTokenById']>) {
    this.count('findTokenById');
    return this.inner.findTokenById(...a);
  }
  saveToken(...a: Parameters<TokenStore['saveToken']>) {
    this.count('saveToken');
    if (this.failSaves) return Promise.reject(new Error('disk full'));
    return this.inner.saveToken(...a);
  }
  deleteToken(...a: Parameters<TokenStore['deleteToken']>) {
    this.count('deleteToken');
    return this.inner.deleteToken(...a);
  }
  getTokens() {
    this.count('getTokens');
    return this.inner.getTokens();
  }
  deleteTokens() {
    this.count('deleteTokens');
    return this.inner.deleteTokens();
  }
  close() {
    return this.inner.close();
  }
  withLock<T>(key: string, ttl: number, fn: () => Promise<T>) {
    this.count('withLock');
    return this.inner.withLock!(key, ttl, fn);
  }
  total(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }
}

export async function setup(options: Partial<TokenManagerOptions> = {}, emulatorOptions: Parameters<typeof startEmulator>[0] = {}) {
  const emulator: Emulator = await startEmulator(emulatorOptions);
  const store = options.store ?? new CountingStore();
  const manager = new TokenManager({
    store,
    clientId: DEFAULT_CLIENT.clientId,
    clientSecret: DEFAULT_CLIENT.clientSecret,
    accountsUrl: emulator.url,
    now: () => emulator.clock.now(),
    ...options,
  });
  return { emulator, store, manager };
}
