// The kit's promises about itself: importable as `@portcullis/resource-server` (and, as documented before,
// `portcullis/resource-server`); at runtime it loads only jose and node built-ins, never the server.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const packageDir = new URL('../../packages/resource-server/', import.meta.url);
const dir = new URL('src/', packageDir);
const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
const manifest = JSON.parse(readFileSync(new URL('package.json', packageDir), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

describe('the resource-server kit', () => {
  it('is importable through the workspace package and through the old root export', async () => {
    const kit = await import('@portcullis/resource-server');
    const node = await import('@portcullis/resource-server/node');
    expect(typeof kit.createResourceServer).toBe('function');
    expect(typeof node.nodeBearerAuth).toBe('function');
    // The core entry stays framework-free: adapters live behind their own subpaths.
    expect('nodeBearerAuth' in kit).toBe(false);
    expect('koaBearerAuth' in kit).toBe(false);

    const legacy = await import('portcullis/resource-server');
    expect(legacy.createResourceServer).toBe(kit.createResourceServer);
    for (const name of ['nodeBearerAuth', 'koaBearerAuth', 'mcpSdkV1TokenVerifier', 'mcpServerTokenVerifier'] as const) {
      expect(typeof legacy[name], name).toBe('function');
    }
  });

  it('declares jose as its only dependency and every framework as an optional peer', () => {
    expect(Object.keys(manifest.dependencies)).toEqual(['jose']);
    for (const peer of Object.keys(manifest.peerDependencies)) {
      expect(manifest.peerDependenciesMeta[peer]?.optional, peer).toBe(true);
    }
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
