import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // examples/ import the package by name, as an app does; in the repository the name is the source.
  resolve: {
    alias: [
      { find: /^zoho-token-store$/, replacement: src('index.ts') },
      { find: /^zoho-token-store\/testing$/, replacement: src('testing/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The CLI tests run several tsx children each (up to 15 s on CI): room for a slower runner.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Cross-process tests spawn children; two cores, so keep file-level parallelism modest.
    maxWorkers: 2,
  },
});
