import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// CI reads one closing line, "N passed, N failed": these tests hold every way
// out of scripts/test.sh and scripts/summarize-results.mjs to printing it last.
const root = fileURLToPath(new URL('..', import.meta.url));
const summarizer = join(root, 'scripts', 'summarize-results.mjs');
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/vitest-results/${name}`, import.meta.url));

interface Outcome {
  code: number;
  lines: string[];
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: root, env, timeout: 60_000 }, (error, stdout) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, lines: stdout.trimEnd().split('\n') });
    });
  });
}

const summarize = (name: string, ...extra: string[]) => run(process.execPath, [summarizer, fixture(name), ...extra]);

describe('summarize-results.mjs', () => {
  it('all passed: the closing line and exit 0', async () => {
    const { code, lines } = await summarize('all-passed.json');
    expect(lines.at(-1)).toBe('3 passed, 0 failed');
    expect(lines.at(-2)).toMatch(/^0 skipped/);
    expect(code).toBe(0);
  });

  it('a file that failed to load counts as a failure next to a failed test', async () => {
    const { code, lines } = await summarize('load-error-and-failed-test.json');
    expect(lines.at(-1)).toBe('1 passed, 2 failed');
    expect(lines.some((l) => l.startsWith('!! suite failed: /repo/b.test.ts: Failed to load url'))).toBe(true);
    expect(code).toBe(1);
  });

  it('a file that failed to load is a failure when no test failed', async () => {
    const { code, lines } = await summarize('load-error-only.json');
    expect(lines.at(-1)).toBe('1 passed, 1 failed');
    expect(code).toBe(1);
  });

  it('a hook error after passing tests is a failure; skips and todos are counted apart', async () => {
    const { code, lines } = await summarize('hook-error-after-passing-tests.json');
    expect(lines.at(-1)).toBe('2 passed, 1 failed');
    expect(lines.at(-2)).toMatch(/^2 skipped/);
    expect(code).toBe(1);
  });

  it('vitest failing outside any test fails the run even when the report shows none', async () => {
    const { code, lines } = await summarize('all-passed.json', '--vitest-exit=1');
    expect(lines.at(-1)).toBe('3 passed, 1 failed');
    expect(lines.at(-2)).toMatch(/^0 skipped/);
    expect(lines.some((l) => l.includes('vitest exited with status 1'))).toBe(true);
    expect(code).toBe(1);
  });

  it('a missing or unreadable report still ends with the closing line', async () => {
    for (const name of ['does-not-exist.json', 'not-json.json']) {
      const { code, lines } = await summarize(name);
      expect(lines.at(-1), name).toBe('0 passed, 1 failed');
      expect(lines.at(-2), name).toMatch(/^!! no test results could be read/);
      expect(code, name).toBe(1);
    }
  });
});

describe('scripts/test.sh when a setup step fails', () => {
  // A stand-in pnpm on PATH that fails one chosen step; nothing reaches the real tree.
  const bin = mkdtempSync(join(tmpdir(), 'sessionkit-ci-'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  function stubPnpm(failing: string): NodeJS.ProcessEnv {
    const dir = mkdtempSync(join(bin, 'bin-'));
    writeFileSync(
      join(dir, 'pnpm'),
      `#!/usr/bin/env bash\n[ "$1" = --version ] && { echo 10.34.9; exit 0; }\n[ "$1" = ${failing} ] && { echo "stub: $1 fails" >&2; exit 7; }\nexit 0\n`,
    );
    chmodSync(join(dir, 'pnpm'), 0o755);
    // redis-server only needs to be found, so the script never reaches for apt.
    writeFileSync(join(dir, 'redis-server'), '#!/usr/bin/env bash\nexit 0\n');
    chmodSync(join(dir, 'redis-server'), 0o755);
    return { ...process.env, PATH: `${dir}:${process.env.PATH}` };
  }

  it.each([
    ['install', 'installing dependencies'],
    ['build', 'building'],
    ['typecheck', 'type-checking'],
  ])('pnpm %s failing ends with a reason and "0 passed, 1 failed", exit non-zero', async (failing, step) => {
    const { code, lines } = await run('bash', [join(root, 'scripts', 'test.sh')], stubPnpm(failing));
    expect(lines.at(-1)).toBe('0 passed, 1 failed');
    expect(lines.at(-2)).toContain(`!! ${step} failed (exit 7)`);
    expect(code).toBe(1);
  });
});
