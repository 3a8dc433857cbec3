import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Child processes in the tests import a package's built dist. CI builds before
 * testing; a bare `vitest run` on a fresh tree builds the package here, once.
 * Returns the dist entry's path.
 */
export function ensureBuilt(packageDir: string, packageName: string): string {
  const dist = join(packageDir, 'dist', 'index.js');
  if (!existsSync(dist)) execFileSync('pnpm', ['--filter', packageName, 'build'], { cwd: packageDir, stdio: 'ignore' });
  return dist;
}

/**
 * A backend started on first use (`get`) and stopped by `stop()`; a use after
 * `stop()` starts a new one. Conformance harnesses share one per test file.
 */
export function lazyTarget<T extends { stop(): Promise<void> }>(start: () => Promise<T>): { get(): Promise<T>; stop(): Promise<void> } {
  let target: Promise<T> | undefined;
  return {
    get: () => (target ??= start()),
    async stop() {
      const pending = target;
      target = undefined;
      if (pending) await (await pending).stop();
    },
  };
}
