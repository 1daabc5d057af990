import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // PGlite takes a few seconds to start and PostgreSQL suites create their own database
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // three on two cores: a fifth of the CPU went unused with two, while files waited on the processes, servers and
    // timers they test; the suites that measure time bound it by what a loaded machine still meets
    maxWorkers: 3,
  },
});
