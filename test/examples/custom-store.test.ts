import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { CustomStoreSQLite } from '../../examples/custom-sqlite-store.js';
import { runTokenStoreConformance } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ztoken-example-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

// The README's custom store, held to the same contract as the shipped ones.
runTokenStoreConformance({ name: 'README example: CustomStoreSQLite', create: () => new CustomStoreSQLite(join(dir, `c${++n}.db`)) });
