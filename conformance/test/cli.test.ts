import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli.js');
const fixture = (name: string) => join(root, 'test/fixtures', name);

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: root, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

// The CLI is what a third party runs from its own package: test the built one.
describe.runIf(existsSync(cli))('sessionkit-conformance CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sessionkit-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a harness module and exits 0 with a readable report when every MUST passes', async () => {
    const out = join(dir, 'report.json');
    const { code, stdout } = await runCli([fixture('reference-harness.mjs'), '--only', 'basic.,limit.', '--name', 'reference', '--json', out]);
    expect(code).toBe(0);
    expect(stdout).toContain('sessionkit conformance: reference');
    expect(stdout).toMatch(/✓ MUST\s+basic\.append-read/);
    expect(stdout).toContain('RESULT: conforms');
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.ok).toBe(true);
    expect(report.results.every((r: { id: string; status: string }) => /^(basic|limit)\./.test(r.id) && r.status === 'passed')).toBe(true);
  });

  it('exits 1 and names the failing test when a MUST fails', async () => {
    const { code, stdout } = await runCli([fixture('broken-harness.mjs'), '--only', 'basic.pop-newest']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ MUST\s+basic\.pop-newest/);
    expect(stdout).toContain('does NOT conform');
  });

  it('prints only JSON with --json -', async () => {
    const { code, stdout } = await runCli([fixture('reference-harness.mjs'), '--only', 'basic.clear', '--json', '-']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, summary: { must: { passed: 1, failed: 0 } } });
  });

  it('runs for a third party that installed the package without vitest (an optional peer)', async () => {
    // A project outside this repository: the package as npm installs it (package.json + dist), core beside it, no vitest anywhere.
    const project = join(dir, 'third-party');
    const installed = join(project, 'node_modules/@sessionkit/conformance');
    mkdirSync(installed, { recursive: true });
    cpSync(join(root, 'package.json'), join(installed, 'package.json'));
    cpSync(join(root, 'dist'), join(installed, 'dist'), { recursive: true });
    symlinkSync(join(root, '../packages/core'), join(project, 'node_modules/@sessionkit/core'), 'dir');
    writeFileSync(
      join(project, 'harness.mjs'),
      [
        "import { brokenStoreHarness, describeConformance } from '@sessionkit/conformance';",
        "let message = '';",
        "try { describeConformance('x', brokenStoreHarness()); } catch (error) { message = error.message; }",
        "if (!/needs vitest/.test(message)) throw new Error('describeConformance should explain that it needs vitest');",
        'export const harness = brokenStoreHarness();',
      ].join('\n'),
    );
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(process.execPath, [join(installed, 'dist/cli.js'), 'harness.mjs', '--only', 'basic.clear'], { cwd: project, timeout: 60_000 }, (error, stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('RESULT: conforms');
  });

  it('lists the catalogue and exits 2 on a module without a harness', async () => {
    const list = await runCli(['--list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/MUST\s+tx\.idempotent/);
    const bad = await runCli([fixture('no-harness.mjs')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('does not export a harness');
  });
});

if (!existsSync(cli)) console.warn('!!! SKIPPED conformance CLI tests: dist/cli.js is missing; run `pnpm build` first');
