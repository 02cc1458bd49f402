// Test runner settings shared by every suite: where tests live and how long slow setups may take.
// Forks, not threads: PGlite (WebAssembly) and the socket/lock tests want a real process each.
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages (packages/*, linked into node_modules by npm) are tested from their TypeScript
// sources through their `portcullis-source` export condition, so no build is needed before a run. The
// name is our own: some dependencies publish a `source` condition whose TypeScript we must not compile.
const conditions = ['portcullis-source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two files at a time, even on two cores (vitest's default would be cores - 1 = one): most files
    // wait on child processes (the CLI, the server), PostgreSQL or a browser much of the time. Measured
    // on the 2-core CI machine: the PostgreSQL pass went from about 23 to 13 minutes, all green.
    maxWorkers: 2,
    // A first PGlite initdb takes seconds (tens of seconds on a slow, busy 2-core machine, where CLI
    // tests spawn several processes); Postgres-backed suites create schemas per test.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
