import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Pins every package's public names to docs/api.md, both ways: a name exported
// but not documented fails, and so does a documented name that is not exported.
const root = fileURLToPath(new URL('..', import.meta.url));
const MAX_CORE_ROOT_NAMES = 45;

const packageDirs = ['conformance', ...readdirSync(`${root}packages`).map((d) => `packages/${d}`)].filter((dir) => {
  const file = `${root}${dir}/package.json`;
  return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).private !== true;
});

/** `./dist/adapter.js` → the source entry tsup builds it from (src/adapter.ts or src/entries/adapter.ts). */
function sourceOf(dir: string, target: string): string {
  const name = /^\.\/dist\/(.+)\.js$/.exec(target)?.[1];
  if (name === undefined) throw new Error(`${dir}: unexpected export target ${target}`);
  for (const candidate of [`src/${name}.ts`, `src/entries/${name}.ts`]) {
    if (existsSync(`${root}${dir}/${candidate}`)) return `${root}${dir}/${candidate}`;
  }
  throw new Error(`${dir}: no source entry for ${target}`);
}

/** The names a source entry exports: re-export lists and local declarations; `export *` is refused. */
export function exportedNames(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  if (/export\s+\*/.test(text)) throw new Error('`export *` hides what a package exports; list the names');
  const names = new Set<string>();
  for (const match of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const raw of match[1]!.split(',')) {
      const spec = raw.trim().replace(/^type\s+/, '');
      if (spec) names.add(spec.split(/\s+as\s+/).pop()!.trim());
    }
  }
  for (const match of text.matchAll(
    /export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|class|const|let|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g,
  )) {
    names.add(match[1]!);
  }
  return [...names].sort();
}

function entries(): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const dir of packageDirs) {
    const pkg = JSON.parse(readFileSync(`${root}${dir}/package.json`, 'utf8'));
    for (const [subpath, target] of Object.entries<{ import: { default: string } } | string>(pkg.exports)) {
      if (typeof target === 'string') continue; // ./package.json
      const specifier = subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`;
      result.set(specifier, exportedNames(readFileSync(sourceOf(dir, target.import.default), 'utf8')));
    }
  }
  return result;
}

/** docs/api.md: a `## \`specifier\`` heading per entry, then one `- \`name\` — what it is` line per name. */
function documented(): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of readFileSync(`${root}docs/api.md`, 'utf8').split('\n')) {
    const heading = /^##\s+`([^`]+)`/.exec(line);
    if (heading) {
      current = [];
      result.set(heading[1]!, current);
      continue;
    }
    if (/^#{1,2}\s/.test(line)) current = undefined;
    const item = /^- `([A-Za-z_$][\w$]*)`/.exec(line);
    if (item && current) current.push(item[1]!);
  }
  for (const [key, names] of result) result.set(key, [...names].sort());
  return result;
}

describe('public API', () => {
  const exported = entries();
  const docs = documented();

  it('documents exactly the entries the packages export', () => {
    expect([...docs.keys()].sort()).toEqual([...exported.keys()].sort());
  });

  it.each([...exported.keys()])('%s: every exported name is documented and every documented name exported', (specifier) => {
    expect(docs.get(specifier) ?? [], `docs/api.md, section \`${specifier}\``).toEqual(exported.get(specifier));
  });

  it(`keeps @sessionkit/core's root to at most ${MAX_CORE_ROOT_NAMES} names`, () => {
    expect(exported.get('@sessionkit/core')!.length).toBeLessThanOrEqual(MAX_CORE_ROOT_NAMES);
  });

  it('refuses `export *` and sees aliases and local declarations', () => {
    expect(() => exportedNames("export * from './x.js';")).toThrow(/export \*/);
    expect(exportedNames("export { a as b, type C } from './x.js';\nexport function d() {}\nexport interface E {}")).toEqual([
      'C',
      'b',
      'd',
      'E',
    ].sort());
  });
});
