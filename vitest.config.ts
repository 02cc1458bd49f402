// Test runner settings shared by every suite: where tests live and how long slow setups may take.
// Forks, not threads: PGlite (WebAssembly) and the socket/lock tests want a real process each.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // A first PGlite initdb takes seconds; Postgres-backed suites create schemas per test.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
