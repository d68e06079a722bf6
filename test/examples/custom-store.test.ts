import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
// The README's custom store, imported as the package names it (a vitest alias maps the name to src/).
import { runTokenStoreConformance } from 'zoho-token-store/testing';
import { CustomStoreSQLite } from '../../examples/custom-sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-example-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

// The README's custom store, held to the same contract as the shipped ones, close() included.
runTokenStoreConformance({ name: 'README example: CustomStoreSQLite', create: () => new CustomStoreSQLite(join(dir, `c${++n}.db`)) });
