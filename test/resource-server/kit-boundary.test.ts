// The kit's promises about itself: importable as `portcullis/resource-server`, and at runtime it loads
// only jose and node built-ins (SDK and koa imports are type-only), never anything of the server.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../src/resource-server/', import.meta.url);
const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));

describe('the resource-server kit', () => {
  it('is importable through the package exports', async () => {
    const kit = await import('portcullis/resource-server');
    expect(typeof kit.createResourceServer).toBe('function');
    expect(typeof kit.nodeBearerAuth).toBe('function');
  });

  it('loads only jose and node built-ins at runtime, and nothing outside its folder', () => {
    let external = 0;
    for (const file of files) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const [, typeOnly, specifier] of source.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
        if (specifier!.startsWith('./')) {
          expect(specifier, file).not.toContain('..');
          continue;
        }
        external += 1;
        const allowed = specifier === 'jose' || specifier!.startsWith('node:') || typeOnly !== undefined;
        expect(allowed, `${file} imports ${specifier}`).toBe(true);
      }
    }
    // jose, node:crypto, node:http, koa and the SDKs: the scan does see the imports it judges.
    expect(external).toBeGreaterThanOrEqual(8);
  });
});
