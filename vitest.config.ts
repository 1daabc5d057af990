import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // PGlite takes a few seconds to start and PostgreSQL suites create their own database
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // two cores: one worker per core keeps the PostgreSQL server and the test processes from starving each other
    maxWorkers: 2,
  },
});
