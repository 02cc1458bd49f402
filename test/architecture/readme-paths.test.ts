// Issue 15, "comments and docs true": every file or folder the README names (src/, test/, packages/, views/,
// migrations/, bench/, examples/) exists, so the architecture section and the rule table stay one hop from code.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('the README', () => {
  it('names only paths that exist', () => {
    const named = [...new Set([...readme.matchAll(/`((?:src|test|packages|views|migrations|bench|examples)\/[\w./-]+)`/g)].map((m) => m[1]!))]
      .filter((path) => !/[<*]/.test(path));
    expect(named.length).toBeGreaterThan(60);
    expect(named.filter((path) => !existsSync(new URL(path, root)))).toEqual([]);
  });
});
