import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `pnpm typecheck` (run by scripts/test.sh) must reach every TypeScript
// project in the repository: examples and bench were once never checked.
const root = fileURLToPath(new URL('..', import.meta.url));
const rootScript: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.typecheck;
// Checked by tests of their own: examples/test/session-types.test.ts (against the built declarations) and
// test/tarballs.test.ts (the packed-tarball project, against the installed packages).
const checkedElsewhere = new Set([
  'examples/test/types/tsconfig.json',
  'test/tarball-project/tsconfig.bundler.json',
  'test/tarball-project/tsconfig.nodenext.json',
  'test/tarball-project/tsconfig.node10.json',
]);

describe('root typecheck script', () => {
  const tsconfigs = execFileSync('git', ['ls-files', '*tsconfig.json', '*tsconfig.*.json'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((path) => path && path !== 'tsconfig.base.json' && !checkedElsewhere.has(path));

  it.each(tsconfigs)('checks %s', (tsconfig) => {
    const dir = dirname(tsconfig);
    const pkgFile = join(root, dir, 'package.json');
    const ownScript = existsSync(pkgFile) ? JSON.parse(readFileSync(pkgFile, 'utf8')).scripts?.typecheck : undefined;
    const viaFilter = ownScript !== undefined && (dir.startsWith('packages/') || rootScript.includes(`--filter ./${dir} `));
    expect(viaFilter || rootScript.includes(`-p ${tsconfig}`), `${tsconfig} is not type-checked by \`pnpm typecheck\``).toBe(true);
  });

  it('includes the bench', () => {
    expect(tsconfigs).toContain('bench/tsconfig.typecheck.json');
    expect(tsconfigs).toContain('examples/tsconfig.json');
  });
});
