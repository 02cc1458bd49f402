// Test runner settings shared by every suite: where tests live and how long slow setups may take.
// Forks, not threads: PGlite (WebAssembly) and the socket/lock tests want a real process each.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // A first PGlite initdb takes seconds (tens of seconds on a slow, busy 2-core machine, where CLI
    // tests spawn several processes); Postgres-backed suites create schemas per test.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
