#!/usr/bin/env node
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HarnessLoadError, importHarness } from './load-harness.js';
import { progressFor } from './progress.js';
import { formatReport } from './report.js';
import { runConformance, selectTests, unmatchedSelectors } from './runner.js';
import { describeCause, HarnessError, MAX_TIMER_MS } from './setup.js';
import { conformanceTests } from './catalogue/index.js';
import type { ConformanceHarness } from './harness.js';

const USAGE = `Usage: sessionkit-conformance <module> [options]

Loads an ES module that exports a conformance harness (export \`harness\`,
or the default export, or the name given with --export), runs the suite and
prints a report on stdout (progress on stderr). A .ts module is loaded through
tsx when the project has it, else through Node's type stripping (Node 22.18+,
24). Exit code 0 when every MUST test that ran passed, 1 when one failed, 2 on
a usage or loading error, or when the harness is at fault (create() throws or
never settles, a bad waiver or scale, a capability that is not a boolean).

Options:
  --export <name>     the harness's export name (default: harness, then default)
  --name <text>       the store's name in the report (default: the module path)
  --only <ids>        comma-separated test ids or id prefixes (e.g. basic.,tx.idempotent);
                      each must match at least one test
  --json <file>       also write the report as JSON to <file> ('-' for stdout, replacing the text report)
  --timeout <ms>      the time limit of every test and of each harness call around them
                      (default: each test's own, 30 s for most; 30 s per harness call)
  --list              list every test id with its level and title, then exit
  -h, --help          this help`;

/** Why the CLI cannot write a file at `path` (checked before the run), or undefined when it can. */
function cannotWrite(path: string): string | undefined {
  try {
    const file = statSync(path, { throwIfNoEntry: false });
    if (file?.isDirectory()) return 'it is a folder';
    if (file) {
      accessSync(path, constants.W_OK);
      return undefined;
    }
    const folder = dirname(resolve(path));
    const parent = statSync(folder, { throwIfNoEntry: false });
    if (!parent) return `the folder ${folder} does not exist`;
    if (!parent.isDirectory()) return `${folder} is not a folder`;
    accessSync(folder, constants.W_OK);
    return undefined;
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `not allowed (${String(code)})` : String(message);
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        export: { type: 'string' },
        name: { type: 'string' },
        only: { type: 'string' },
        json: { type: 'string' },
        timeout: { type: 'string' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.list) {
    for (const test of conformanceTests) {
      console.log(`${test.level.padEnd(6)} ${test.id.padEnd(34)} ${test.title}${test.requires ? `  [needs ${test.requires.join(', ')}]` : ''}`);
    }
    return 0;
  }
  const [modulePath] = positionals;
  if (!modulePath || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }

  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    timeoutMs = /^\d+$/.test(values.timeout) ? Number(values.timeout) : Number.NaN;
    if (!(timeoutMs >= 1 && timeoutMs <= MAX_TIMER_MS)) {
      console.error(`--timeout must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${JSON.stringify(values.timeout)}`);
      return 2;
    }
  }

  const only = values.only?.split(',').map((id) => id.trim()).filter(Boolean);
  if (only !== undefined) {
    const unmatched = unmatchedSelectors(only);
    if (only.length === 0 || unmatched.length) {
      const what = only.length === 0 ? 'names no test id' : `matches no test id: ${unmatched.map((id) => JSON.stringify(id)).join(', ')}`;
      console.error(`--only ${what} (an id, or the start of ids, such as basic. — sessionkit-conformance --list shows them all)`);
      return 2;
    }
  }
  // Found out now, not after the whole run.
  const unwritable = values.json && values.json !== '-' ? cannotWrite(values.json) : undefined;
  if (unwritable) {
    console.error(`--json: cannot write the report to ${values.json}: ${unwritable}`);
    return 2;
  }

  let harness: ConformanceHarness;
  try {
    const { module: mod } = await importHarness(modulePath);
    const found = values.export ? mod[values.export] : (mod.harness ?? mod.default);
    const candidate = typeof found === 'function' && !('create' in found) ? await (found as () => unknown)() : found;
    if (!candidate || typeof (candidate as ConformanceHarness).create !== 'function') {
      console.error(`${modulePath} does not export a harness (an object with create()) as ${values.export ?? '"harness" or default'}`);
      return 2;
    }
    harness = candidate as ConformanceHarness;
  } catch (error) {
    if (error instanceof HarnessLoadError) console.error(error.message);
    else console.error(`could not load ${modulePath}: ${(error as Error).stack ?? String(error)}`);
    return 2;
  }

  const toStdout = values.json === '-';
  const progress = toStdout ? { done() {} } : progressFor(selectTests(only).length);
  let report;
  try {
    report = await runConformance(values.name ?? modulePath, harness, {
      ...(only ? { only } : {}),
      onResult: progress.onResult,
      invalidManifest: 'refuse',
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  } catch (error) {
    if (!(error instanceof HarnessError)) throw error;
    progress.done();
    console.error(`the harness is at fault: ${error.message}`);
    if (error.cause !== undefined) console.error(`  cause: ${describeCause(error.cause)}`);
    return 2;
  } finally {
    progress.done();
  }
  if (toStdout) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    console.log(`\n${formatReport(report)}`);
    if (values.json) {
      try {
        writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
      } catch (error) {
        console.error(`--json: could not write the report to ${values.json}: ${(error as Error).message}`);
        // A store that failed still exits 1: the report above says why.
        return report.ok ? 2 : 1;
      }
    }
  }
  return report.ok ? 0 : 1;
}

// Node exits when nothing is left to wait for, even while main() still awaits
// a promise that can never settle (a harness's or a store's, with no timer or
// socket behind it). Without these guards that would be exit code 0 and no
// report: a silent pass.
let finished = false;
process.on('beforeExit', () => {
  if (finished) return;
  finished = true;
  console.error('the run ended before finishing: something awaited a promise that never settles (a harness or store call with nothing left to wait for); no result');
  process.exit(2);
});
process.on('exit', (code) => {
  if (finished) return;
  console.error(`the run ended before finishing: process.exit(${code}) was called while it ran; no result`);
  process.exitCode = 2;
});

main().then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    finished = true;
    console.error(error);
    process.exitCode = 2;
  },
);
