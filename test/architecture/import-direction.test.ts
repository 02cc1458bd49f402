// Keeps the imports of src/ running one way (../shared/STYLE.md, "Import direction"): no top-level part of
// src/ (a folder, or a file at its root) imports one that imports it back, only app.ts and cli.ts import a
// front end, and errors.ts and views.ts, which every layer uses, import nothing of src/oidc/.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The files of src/ each file imports (static `from '...'`, re-exports and dynamic `import('...')`). */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]/g)]
    .map((match) => (match[1] ?? match[2])!);
  return specifiers.map((specifier) => normalize(join(dirname(file), specifier))).filter((target) => target.startsWith(srcDir));
}

/** src/oidc/provider.ts → "oidc"; src/views.ts → "views.ts". */
const partOf = (file: string) => relative(srcDir, file).split(sep)[0]!;

/** ../shared/STYLE.md: front ends parse, call a service and render; nothing below them imports them. */
const FRONT_ENDS = new Set(['http', 'cli', 'admin', 'portal', 'interactions']);

interface Edge { from: string; to: string; files: string[] }

function partGraph(): Map<string, Edge> {
  const edges = new Map<string, Edge>();
  for (const file of sourceFiles(srcDir)) {
    for (const target of importsOf(file)) {
      const from = partOf(file);
      const to = partOf(target);
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      const edge = edges.get(key) ?? { from, to, files: [] };
      edge.files.push(`${relative(srcDir, file)} -> ${relative(srcDir, target)}`);
      edges.set(key, edge);
    }
  }
  return edges;
}

/** The strongly connected groups of two or more parts (Tarjan): each is at least one circle of imports. */
function circlesOf(edges: Iterable<{ from: string; to: string }>): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    next.set(from, [...(next.get(from) ?? []), to]);
    if (!next.has(to)) next.set(to, []);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const to of next.get(node)!) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      group.push(member);
    } while (member !== node);
    if (group.length > 1) circles.push(group.sort());
  };
  for (const node of next.keys()) if (!index.has(node)) visit(node);
  return circles;
}

describe('import direction in src/', () => {
  const edges = partGraph();

  it('finds a circle when there is one (the check can fail)', () => {
    expect(circlesOf([{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'a' }, { from: 'c', to: 'd' }]))
      .toEqual([['a', 'b', 'c']]);
    expect(circlesOf([{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }])).toEqual([]);
  });

  it('reads the imports it judges', () => {
    // The composition root imports the front ends and the provider: a scan that saw nothing would pass vacuously.
    expect(edges.has('app.ts -> oidc')).toBe(true);
    expect(edges.has('app.ts -> http')).toBe(true);
    expect(edges.size).toBeGreaterThan(50);
  });

  it('has no folder that imports one that imports it back', () => {
    const ties = circlesOf(edges.values()).map((circle) => ({
      circle,
      imports: [...edges.values()]
        .filter((edge) => circle.includes(edge.from) && circle.includes(edge.to))
        .flatMap((edge) => edge.files),
    }));
    expect(ties).toEqual([]);
  });

  it('lets only the composition roots import a front end (the front ends share src/http/ plumbing)', () => {
    const roots = new Set(['app.ts', 'cli.ts', 'main.ts']);
    const wrong = [...edges.values()]
      .filter((edge) => FRONT_ENDS.has(edge.to) && !roots.has(edge.from))
      .filter((edge) => !(edge.to === 'http' && FRONT_ENDS.has(edge.from)))
      .flatMap((edge) => edge.files);
    expect(wrong).toEqual([]);
  });

  it('keeps errors.ts and views.ts free of the provider wiring (src/oidc/)', () => {
    for (const file of ['errors.ts', 'views.ts']) {
      const intoOidc = importsOf(join(srcDir, file)).filter((target) => partOf(target) === 'oidc');
      expect(intoOidc, file).toEqual([]);
    }
  });
});
