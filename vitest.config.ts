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
    // a worker runs its files one after another in one module graph: each file loading the server, both drivers and
    // the CLI afresh cost three minutes of CI's twenty. Tests keep no state in modules (a world counts per database,
    // fake timers are put back in afterEach or finally), so a file sees what it would alone.
    isolate: false,
  },
});
