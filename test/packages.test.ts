import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatMessage } from 'publint/utils';
import { publint } from 'publint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const publishable = [
  'packages/core',
  'packages/sqlite',
  'packages/redis',
  'packages/mongodb',
  'packages/s3',
  'packages/postgres',
  'packages/cli',
  'conformance',
];

type Conditions = { import: { types: string; default: string }; require: { types: string; default: string } };

// What an npm user gets: built JS with declarations, exports that publint and attw accept,
// loadable through import and require (docs/decisions.md, "import and require").
describe.each(publishable)('published shape of %s', (dir) => {
  const pkgDir = `${root}${dir}`;
  const pkg = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8'));
  const entries = Object.entries<Conditions | string>(pkg.exports).filter(
    (entry): entry is [string, Conditions] => typeof entry[1] !== 'string',
  );

  it('passes publint with warnings treated as errors', async () => {
    const { messages } = await publint({ pkgDir, pack: 'pnpm', level: 'warning', strict: true });
    expect(messages.map((m) => formatMessage(m, pkg) ?? m.code)).toEqual([]);
  }, 60_000);

  it('passes @arethetypeswrong/cli under its default profile', async () => {
    const attw = `${root}node_modules/.bin/attw`;
    // Exits non-zero on any problem; the JSON names each one.
    const result = await run(attw, ['--pack', '.', '--format', 'json'], { cwd: pkgDir }).catch((error) => error);
    const problems = JSON.parse(result.stdout).analysis?.problems ?? ['no analysis'];
    expect(problems).toEqual([]);
    expect(result.code ?? 0).toBe(0);
  }, 60_000);

  it('exports built ESM with declarations for import and a CommonJS twin with .d.cts for require', async () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [subpath, target] of entries) {
      expect(Object.keys(target), subpath).toEqual(['import', 'require']);
      expect(target.import.types, subpath).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(target.import.default, subpath).toMatch(/^\.\/dist\/.*\.js$/);
      expect(target.require.types, subpath).toMatch(/^\.\/dist\/.*\.d\.cts$/);
      expect(target.require.default, subpath).toMatch(/^\.\/dist\/.*\.cjs$/);
      for (const file of [target.import.types, target.import.default, target.require.types, target.require.default]) {
        expect(existsSync(`${pkgDir}/${file}`), `${subpath}: ${file} is built`).toBe(true);
      }
    }
    expect(pkg.type).toBe('module');
    // The conformance kit also ships its adapter template (TypeScript sources meant to be copied, not imported).
    expect(pkg.files).toEqual(pkg.name === '@sessionkit/conformance' ? ['dist', 'template'] : ['dist']);
  });

  // TypeScript's legacy node10 resolution ("module": "commonjs" in TS 5) ignores `exports`: the root comes from
  // `types`, a subpath from `typesVersions`. Both must land on the require declarations (.d.cts); a root on
  // .d.ts and a subpath on .d.cts gave a project two copies of every class, and classes with #private members
  // (MemoryStore, AbstractSessionStore, CacheStore) were no longer assignable to each other (TS2719).
  it('resolves the root and every subpath to the same .d.cts declarations under node10 as under require', () => {
    const consumer = mkdtempSync(join(tmpdir(), 'sessionkit-node10-'));
    try {
      const link = join(consumer, 'node_modules', pkg.name);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(pkgDir, link, 'dir');
      const options = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };
      for (const [subpath, target] of entries) {
        const specifier = `${pkg.name}${subpath.slice(1)}`;
        const { resolvedModule } = ts.resolveModuleName(specifier, join(consumer, 'index.ts'), options, ts.sys);
        expect(resolvedModule?.resolvedFileName, specifier).toBe(realpathSync(join(pkgDir, target.require.types)));
      }
    } finally {
      rmSync(consumer, { recursive: true, force: true });
    }
  });

  it('loads in plain Node (no TypeScript loader) through import and through require, the same module', async () => {
    const specifiers = entries.map(([subpath]) => `${pkg.name}${subpath.slice(1)}`);
    const script = `
      const { createRequire } = await import('node:module');
      const require = createRequire(process.cwd() + '/');
      const results = {};
      for (const specifier of ${JSON.stringify(specifiers)}) {
        const viaImport = await import(specifier);
        let viaRequire;
        try {
          viaRequire = require(specifier);
        } catch (error) {
          results[specifier] = error.code ?? String(error);
          continue;
        }
        const names = Object.keys(viaImport);
        // One module instance: require() returns the very same bindings (one SessionError class, not two).
        const same = names.length > 0 && names.every((name) => viaRequire[name] === viaImport[name]);
        results[specifier] = same ? names.length : 'require and import differ';
      }
      console.log(JSON.stringify(results));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: pkgDir });
    const results: Record<string, number | string> = JSON.parse(stdout.trim());
    expect(Object.keys(results)).toEqual(specifiers);
    for (const [specifier, result] of Object.entries(results)) {
      expect(typeof result === 'number' && result > 0, `${specifier} through require: ${result}`).toBe(true);
    }
  });
});

// The npm page and the tarball: a README and the license text travel with every package.
describe.each(publishable)('tarball of %s', (dir) => {
  it('packs README.md, LICENSE and package.json beside dist', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: `${root}${dir}` });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    for (const name of ['README.md', 'LICENSE', 'package.json']) expect(files, `${dir} packs ${name}`).toContain(name);
    expect(files.some((f) => f.endsWith('.map')), 'no source maps shipped').toBe(false);
  });
});
