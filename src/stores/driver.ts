import { createRequire } from 'node:module';
import { TokenStoreError } from '../errors.js';

const require = createRequire(import.meta.url);

/**
 * Loads an optional peer dependency only when a store that needs it is created, so a user of
 * one store never installs the drivers of the others.
 */
export function loadDriver<T>(packageName: string, storeName: string): T {
  try {
    return require(packageName) as T;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new TokenStoreError('UNAVAILABLE', `${storeName} needs the "${packageName}" package: npm install ${packageName}`);
    }
    throw error;
  }
}
