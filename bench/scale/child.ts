/**
 * One store kind at one size, in a process of its own: `node --expose-gc --import tsx
 * bench/scale/child.ts KIND SIZE [quick]`. Loads the plain and the encrypted store, measures
 * them (measure.ts) and prints one line, `RESULT <json>`, for bench/suites/scale.ts. A process per
 * measurement, as an application holds one store: no other store's 100,000 tokens, database
 * drivers or garbage in its heap.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldCipher } from '../../src/crypto/cipher.js';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import type { TokenStore } from '../../src/store.js';
import { measure } from '../lib.js';
import { encryptedToken } from '../lib-seed.js';
import { benchToken } from '../lib-stores.js';
import { measureStore } from './measure.js';
import { scaleStores } from './stores.js';

const [kindName, sizeText, quickFlag] = process.argv.slice(2);
const size = Number(sizeText);
const dir = mkdtempSync(join(tmpdir(), 'ztoken-bench-scale-'));
const kind = scaleStores(dir).find((k) => k.name === kindName);
if (!kind || !Number.isSafeInteger(size)) {
  console.error(
    `usage: child.ts KIND SIZE [quick] (kinds: ${scaleStores(dir)
      .map((k) => k.name)
      .join(', ')})`,
  );
  process.exit(2);
}
const KEYS = [{ id: 'bench', key: randomBytes(32) }];
const cipher = new FieldCipher(KEYS);
const opened: TokenStore[] = [];
let code = 0;
try {
  const started = performance.now();
  const plain = await kind.load('p', size, benchToken);
  opened.push(plain);
  const loadS = (performance.now() - started) / 1000;
  const encrypted = new EncryptedStore(await kind.load('e', size, (i) => encryptedToken(cipher, benchToken(i))), { keys: KEYS });
  opened.push(encrypted);
  const ctx = { record: () => undefined, measure, sizes: [size], quick: quickFlag === 'quick' };
  const figures = await measureStore(ctx, kind, size, [plain, encrypted]);
  console.log(`RESULT ${JSON.stringify({ loadS, figures: [...figures] })}`);
} catch (error) {
  console.error((error as Error).message);
  code = 1;
} finally {
  for (const store of opened) await store.close().catch(() => undefined);
  await kind.drop('p').catch(() => undefined);
  await kind.drop('e').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
