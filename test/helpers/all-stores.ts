/** Every store this project ships, as factories (remote ones when their service is reachable). */
import { localStoreFactories, type StoreFactory } from './store-factories.js';

export async function allStoreFactories(): Promise<StoreFactory[]> {
  return [...localStoreFactories()];
}
