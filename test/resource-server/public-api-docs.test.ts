// Issue 16 §1: TSDoc on every public export of @portcullis/resource-server. The public API is what the
// package's entry points (package.json "exports") export; each name must carry a /** */ block where it is
// declared, so an editor shows it to someone who installed the kit from a tarball.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const packageDir = new URL('../../packages/resource-server/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, packageDir), 'utf8');

const entryPoints = (): string[] => {
  const exports = JSON.parse(read('package.json')).exports as Record<string, string | Record<string, string>>;
  return Object.values(exports).flatMap((target) => (typeof target === 'string' ? [] : [target['portcullis-source']!]));
};

/** [name, file declaring it] for every name an entry point exports, re-exports followed one hop. */
function publicNames(entry: string): Array<[string, string]> {
  const source = read(entry);
  const reExported = [...source.matchAll(/export (?:type )?\{([^}]*)\} from '\.\/([\w.-]+)'/g)]
    .flatMap((match) => match[1]!.split(',').map((name) => name.trim()).filter(Boolean)
      .map((name): [string, string] => [name, `./src/${match[2]}`]));
  const declared = [...source.matchAll(/^export (?:async )?(?:function|class|const|interface|type)\s+(\w+)/gm)]
    .map((match): [string, string] => [match[1]!, entry]);
  return [...reExported, ...declared];
}

function hasTsDoc(name: string, file: string): boolean {
  const source = read(file);
  const declaration = new RegExp(`^export (?:async )?(?:function|class|const|interface|type)\\s+${name}\\b`, 'm').exec(source);
  if (!declaration) throw new Error(`${name} is exported but not declared in ${file}`);
  return source.slice(0, declaration.index).trimEnd().endsWith('*/');
}

describe('the kit\'s public API', () => {
  it('has entry points for the core and each adapter', () => {
    expect(entryPoints()).toEqual(['./src/index.ts', './src/node.ts', './src/koa.ts', './src/mcp-sdk-v1.ts', './src/mcp-sdk-v2.ts']);
  });

  it('documents every exported function, class, constant and type with TSDoc', () => {
    const names = entryPoints().flatMap(publicNames);
    expect(names.length).toBeGreaterThan(30);
    expect(names.filter(([name, file]) => !hasTsDoc(name, file)).map(([name, file]) => `${name} (${file})`)).toEqual([]);
  });
});
