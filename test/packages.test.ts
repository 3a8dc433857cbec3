import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatMessage } from 'publint/utils';
import { publint } from 'publint';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const publishable = ['packages/core', 'packages/sqlite', 'packages/redis', 'packages/mongodb', 'packages/s3', 'conformance'];

// What an npm user gets: built JS with declarations, exports that publint accepts.
describe.each(publishable)('published shape of %s', (dir) => {
  const pkgDir = `${root}${dir}`;
  const pkg = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8'));

  it('passes publint with warnings treated as errors', async () => {
    const { messages } = await publint({ pkgDir, pack: 'pnpm', level: 'warning', strict: true });
    expect(messages.map((m) => formatMessage(m, pkg) ?? m.code)).toEqual([]);
  }, 60_000);

  it('exports built ESM JavaScript with type declarations, never TypeScript sources', async () => {
    for (const [subpath, target] of Object.entries<Record<string, string> | string>(pkg.exports)) {
      if (typeof target === 'string') continue; // ./package.json
      expect(target.types, subpath).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(target.import, subpath).toMatch(/^\.\/dist\/.*\.js$/);
      expect(existsSync(`${pkgDir}/${target.import}`), `${subpath} is built`).toBe(true);
      expect(existsSync(`${pkgDir}/${target.types}`), `${subpath} has declarations`).toBe(true);
    }
    expect(pkg.type).toBe('module');
    // The conformance kit also ships its adapter template (TypeScript sources meant to be copied, not imported).
    expect(pkg.files).toEqual(pkg.name === '@sessionkit/conformance' ? ['dist', 'template'] : ['dist']);
  });

  it('loads in plain Node (no TypeScript loader) through its own exports', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pkg.name)}); console.log(Object.keys(m).length)`],
      { cwd: pkgDir },
    );
    expect(Number(stdout.trim())).toBeGreaterThan(0);
  });
});
