import { defineConfig } from 'vitest/config';

export default defineConfig({
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
