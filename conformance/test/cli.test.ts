import { execFile, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli.js');
const fixture = (name: string) => join(root, 'test/fixtures', name);

function runCli(args: string[], options: { cwd?: string; nodeArgs?: string[] } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...(options.nodeArgs ?? []), cli, ...args], { cwd: options.cwd ?? root, timeout: 120_000 }, (error, stdout, stderr) => {
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

  describe('a TypeScript harness', () => {
    // Outside the repository, so tsx (a dev dependency here) cannot be found from it.
    const outside = () => {
      const project = mkdtempSync(join(tmpdir(), 'sessionkit-ts-harness-'));
      const index = pathToFileURL(join(root, 'dist/index.js')).href;
      writeFileSync(join(project, 'typed.ts'), `import { brokenStoreHarness } from '${index}';\nconst name: string = 'typed';\nexport const harness = { ...brokenStoreHarness(), name };\n`);
      writeFileSync(join(project, 'enum.ts'), `import { brokenStoreHarness } from '${index}';\nenum Kind { A = 'a' }\nexport const harness = { ...brokenStoreHarness(), kind: Kind.A };\n`);
      return project;
    };
    const strips = Boolean((process.features as { typescript?: unknown }).typescript);

    it('loads through tsx where the project has it (syntax type stripping cannot run, too)', async () => {
      const { code, stdout, stderr } = await runCli([fixture('enum-harness.ts'), '--only', 'basic.clear']);
      expect(stderr).not.toContain('ERR_');
      expect(code).toBe(0);
      expect(stdout).toContain('RESULT: conforms');
    });

    it.runIf(strips)('loads through Node\'s type stripping without tsx, and says in one line what to do where that cannot', async () => {
      const project = outside();
      try {
        const typed = await runCli(['typed.ts', '--only', 'basic.clear'], { cwd: project });
        expect(typed.code).toBe(0);
        expect(typed.stdout).toContain('RESULT: conforms');
        const enumerated = await runCli(['enum.ts'], { cwd: project });
        expect(enumerated.code).toBe(2);
        expect(enumerated.stderr.trim().split('\n')).toHaveLength(1);
        expect(enumerated.stderr).toMatch(/^cannot load enum\.ts with Node's type stripping \(.+\); install tsx/);
        const off = await runCli(['typed.ts'], { cwd: project, nodeArgs: ['--no-experimental-strip-types'] });
        expect(off.code).toBe(2);
        expect(off.stderr.trim().split('\n')).toHaveLength(1);
        expect(off.stderr).toMatch(/^cannot load typed\.ts: type stripping is turned off .*install tsx/);
        expect(off.stderr).not.toContain('ERR_UNKNOWN_FILE_EXTENSION');
      } finally {
        rmSync(project, { recursive: true, force: true });
      }
    });
  });

  it('passes the adapter template (conformance/template, shipped in the package) through the kit', async () => {
    const { code, stdout } = await runCli([join(root, 'template/harness.ts'), '--name', 'template']);
    expect(stdout).not.toMatch(/✗/);
    expect(stdout).toContain('RESULT: conforms');
    expect(code).toBe(0);
    const lines = (file: string) => readFileSync(join(root, 'template', file), 'utf8').split('\n').length;
    expect(lines('my-store.ts') + lines('harness.ts'), 'the template stays minimal').toBeLessThanOrEqual(150);
  }, 120_000);

  describe('progress and report', () => {
    const only = ['--only', 'basic.'];
    const ids = (text: string, id: string) => text.split('\n').filter((line) => line.includes(id)).length;

    const hasScript = spawnSync('script', ['--version']).status === 0;
    if (!hasScript) console.warn('!!! SKIPPED the terminal progress test: util-linux `script` (a pseudo-terminal) is not installed');

    it.runIf(hasScript)('in a terminal, show each result once: a status line on stderr, cleared before the report', () => {
      // `script` runs the CLI on a pseudo-terminal (stdout and stderr both the terminal).
      const run = spawnSync('script', ['-qec', [process.execPath, cli, fixture('reference-harness.mjs'), ...only].map((a) => `'${a}'`).join(' '), '/dev/null'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('\x1b[K');
      // What the terminal shows: each line as left after its carriage returns and erases.
      const screen = run.stdout
        .split('\n')
        .map((line) => line.replace(/\r$/, '').split('\r').at(-1)!.replace(/\x1b\[K/g, ''))
        .join('\n');
      expect(ids(screen, 'basic.append-read')).toBe(1);
      expect(ids(screen, 'basic.bound-session')).toBe(1);
      expect(screen).toContain('RESULT: conforms');
    });

    it('piped, print one progress line per test on stderr and the report on stdout', async () => {
      const { code, stdout, stderr } = await runCli([fixture('reference-harness.mjs'), ...only]);
      expect(code).toBe(0);
      expect(ids(stderr, 'basic.append-read')).toBe(1);
      expect(ids(stdout, 'basic.append-read')).toBe(1);
    });

    it('with stderr and stdout in one file, print the report only', () => {
      const out = join(dir, 'both.txt');
      const fd = openSync(out, 'w');
      const run = spawnSync(process.execPath, [cli, fixture('reference-harness.mjs'), ...only], { cwd: root, stdio: ['ignore', fd, fd], timeout: 60_000 });
      closeSync(fd);
      expect(run.status).toBe(0);
      const text = readFileSync(out, 'utf8');
      expect(ids(text, 'basic.append-read')).toBe(1);
      expect(text).toContain('RESULT: conforms');
    });
  });

  describe('a harness at fault', () => {
    /** A harness module in the test's folder, importing the built kit by URL. */
    const harnessFile = (name: string, body: string) => {
      const file = join(dir, name);
      writeFileSync(file, `import { brokenStoreHarness } from '${pathToFileURL(join(root, 'dist/index.js')).href}';\n${body}\n`);
      return file;
    };
    const refused = async (name: string, body: string, expected: RegExp) => {
      const { code, stdout, stderr } = await runCli([harnessFile(name, body), '--only', 'basic.clear']);
      expect(code, stderr).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).not.toMatch(/^\s+at /m);
      const lines = stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^the harness is at fault: /);
      expect(lines[0]).toMatch(expected);
      return lines;
    };

    it('says so in one line, with the cause and no stack trace, when create() throws', async () => {
      const lines = await refused('throws.mjs', "export const harness = { create() { throw new Error('cannot connect to my backend'); } };", /create\(\) threw/);
      expect(lines).toEqual([lines[0], '  cause: Error: cannot connect to my backend']);
    });

    it('refuses an unknown waiver id, or a waiver without a reason, in one line', async () => {
      const unknown = await refused('waiver-id.mjs', "export const harness = { ...brokenStoreHarness(), waivers: { 'no.such-test': 'why' } };", /waiver for unknown test id "no\.such-test"/);
      expect(unknown).toHaveLength(1);
      const empty = await refused('waiver-reason.mjs', "export const harness = { ...brokenStoreHarness(), waivers: { 'basic.clear': ' ' } };", /waiver for "basic\.clear" needs a written reason/);
      expect(empty).toHaveLength(1);
    });

    it('refuses to start with a scale that is not a positive number', async () => {
      const lines = await refused('scale.mjs', 'export const harness = { ...brokenStoreHarness(), scale: 0 };', /harness\.scale must be a positive number.*got 0$/);
      expect(lines).toHaveLength(1);
    });

    it('refuses to start when the store declares a capability as something other than a boolean', async () => {
      const body = [
        'const inner = brokenStoreHarness();',
        'export const harness = { async create(options) {',
        '  const store = await inner.create(options);',
        "  return Object.defineProperty(store, 'capabilities', { value: { ...store.capabilities, conditionalAppend: 'yes' } });",
        '} };',
      ].join('\n');
      const lines = await refused('manifest.mjs', body, /capabilities must each be true or false.*: conditionalAppend is "yes" \(a string\)$/);
      expect(lines).toHaveLength(1);
    });
  });

  describe('a harness or store that never settles', () => {
    const hanging = (name: string, body: string) => {
      const file = join(dir, name);
      writeFileSync(file, `import { brokenStoreHarness } from '${pathToFileURL(join(root, 'dist/index.js')).href}';\nconst inner = brokenStoreHarness();\n${body}\n`);
      return file;
    };

    it('fails the test that hangs at its time limit, naming it, and still prints the report (exit 1)', async () => {
      // getItems on session "s" awaits forever: a lock never released.
      const file = hanging(
        'get-hangs.mjs',
        "export const harness = { async create(o) { const store = await inner.create(o); const get = store.getItems.bind(store); store.getItems = (id, opts) => id === 's' ? new Promise(() => {}) : get(id, opts); return store; } };",
      );
      const { code, stdout } = await runCli([file, '--only', 'basic.empty-session,basic.clear', '--timeout', '300']);
      expect(stdout).toMatch(/✗ MUST\s+basic\.clear/);
      expect(stdout).toContain('TimeoutError: basic.clear did not settle within 300 ms');
      expect(stdout).toContain('RESULT: does NOT conform');
      expect(code).toBe(1);
    });

    it('exits 2, saying which harness call hung, when create() or the first store\'s close() never settles', async () => {
      const create = await runCli([hanging('create-hangs.mjs', 'export const harness = { create: () => new Promise(() => {}) };'), '--timeout', '300']);
      expect(create.code).toBe(2);
      expect(create.stderr.trim()).toBe(
        'the harness is at fault: create() did not settle within 300 ms, while the kit opened a store to read its capabilities, before any test',
      );
      const close = await runCli([
        hanging('close-hangs.mjs', 'export const harness = { async create(o) { const store = await inner.create(o); store.close = () => new Promise(() => {}); return store; } };'),
        '--timeout',
        '300',
      ]);
      expect(close.code).toBe(2);
      expect(close.stderr).toMatch(/^the harness is at fault: the store's close\(\) did not settle within 300 ms/);
    });

    it('never exits 0 without a result when Node runs out of things to wait for', async () => {
      const file = join(dir, 'awaits-forever.mjs');
      writeFileSync(file, 'await new Promise(() => {});\nexport const harness = {};\n');
      const { code, stdout, stderr } = await runCli([file]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain('the run ended before finishing: something awaited a promise that never settles');
    });

    it('refuses a --timeout that is not a whole number of milliseconds', async () => {
      for (const bad of ['0', '1.5', 'soon', String(2 ** 31)]) {
        const { code, stderr } = await runCli([fixture('reference-harness.mjs'), '--timeout', bad]);
        expect(code, bad).toBe(2);
        expect(stderr).toMatch(/^--timeout must be a whole number of milliseconds/);
      }
    });
  });

  describe('options checked before the run', () => {
    it('exits 2 naming an --only entry that matches no test id, instead of running nothing and passing', async () => {
      const typo = await runCli([fixture('reference-harness.mjs'), '--only', 'basic.clear,basci.,tx.idempotnt']);
      expect(typo.code).toBe(2);
      expect(typo.stdout).toBe('');
      expect(typo.stderr.trim().split('\n')).toHaveLength(1);
      expect(typo.stderr).toMatch(/^--only matches no test id: "basci\.", "tx\.idempotnt"/);
      const empty = await runCli([fixture('reference-harness.mjs'), '--only', ',']);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toMatch(/^--only names no test id/);
    });

    it('exits 2 before running when --json names a file it cannot write', async () => {
      for (const target of [join(dir, 'no-such-folder', 'report.json'), dir]) {
        const { code, stdout, stderr } = await runCli([fixture('broken-harness.mjs'), '--only', 'basic.pop-newest', '--json', target]);
        expect(code, target).toBe(2);
        expect(stdout).toBe('');
        expect(stderr.trim().split('\n')).toHaveLength(1);
        expect(stderr.trim()).toMatch(/^--json: cannot write the report to .+: (the folder .+ does not exist|it is a folder)$/);
      }
    });

    it('keeps exit code 1 for a store that failed when the JSON report cannot be written after all', async () => {
      const folder = join(dir, 'vanishing');
      mkdirSync(folder);
      const harness = join(dir, 'vanishing-harness.mjs');
      writeFileSync(
        harness,
        [
          "import { rmSync } from 'node:fs';",
          `import { brokenStoreHarness } from '${pathToFileURL(join(root, 'dist/index.js')).href}';`,
          `export const harness = { ...brokenStoreHarness('pops-oldest'), teardown: async () => rmSync(${JSON.stringify(folder)}, { recursive: true }) };`,
        ].join('\n'),
      );
      const { code, stdout, stderr } = await runCli([harness, '--only', 'basic.pop-newest', '--json', join(folder, 'report.json')]);
      expect(stdout).toContain('RESULT: does NOT conform');
      expect(stderr).toMatch(/--json: could not write the report to .+report\.json: ENOENT/);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(code).toBe(1);
    });
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
