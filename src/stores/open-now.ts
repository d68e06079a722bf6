/** Opens a store at once (connects, checks its table or keys); one that fails is closed. */
import type { TokenStore } from '../store.js';

export async function openNow<S extends TokenStore>(store: S, open: () => Promise<void>): Promise<S> {
  try {
    await open();
    return store;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}
