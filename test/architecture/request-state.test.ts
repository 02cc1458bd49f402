// Issue 15: what the server keeps about one request lives in one typed record (src/request/state.ts), not in
// side tables keyed by the koa context spread over the modules that need them.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));
const sourceFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
  const path = join(dir, entry.name);
  return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
});

describe('per-request state', () => {
  it('is one WeakMap keyed by the request, in src/request/state.ts, and no other module keeps one', () => {
    // A table keyed by an arbitrary object (the koa context is one) rather than by a named type.
    const keyedByAnyObject = sourceFiles(srcDir)
      .filter((file) => /new WeakMap<\s*object\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(srcDir, file));
    expect(keyedByAnyObject).toEqual(['request/state.ts']);
  });
});
