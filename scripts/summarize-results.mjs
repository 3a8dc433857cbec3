// Reads vitest's JSON results and prints, last, the one closing line CI reads:
// "N passed, N failed" (the skipped count on the line before: skips are never
// passes). Usage: node scripts/summarize-results.mjs [results.json] [--vitest-exit=N]
// Exits 1 on any failure. Every way out, a crash of this script included,
// prints a closing line, with the reason on the lines before it.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * The closing figures for one vitest JSON report. A test file whose suite
 * failed as a whole (it did not load, or a hook outside any test threw) counts
 * as one failure on top of its failed tests: it ran tests nobody saw.
 * `vitestExit` is vitest's exit status, when known: non-zero with nothing
 * else failed (an unhandled error outside any test) is one failure.
 */
export function summarize(results, vitestExit) {
  const reasons = [];
  const files = Array.isArray(results.testResults) ? results.testResults : [];
  let fileErrors = 0;
  for (const file of files) {
    if (file.status !== 'failed') continue;
    const testFailed = (file.assertionResults ?? []).some((t) => t.status === 'failed');
    // A failed file with no failed test failed at file level even when vitest kept no message.
    if (file.message || !testFailed) {
      fileErrors++;
      const firstLine = String(file.message || 'no message').split('\n')[0];
      reasons.push(`!! suite failed: ${file.name}: ${firstLine}`);
    }
  }
  const passed = Number(results.numPassedTests ?? 0);
  let failed = Number(results.numFailedTests ?? 0) + fileErrors;
  if (failed === 0 && results.success === false) {
    failed = 1;
    reasons.push('!! vitest reported the run as failed without a failed test');
  }
  if (failed === 0 && vitestExit !== undefined && vitestExit !== 0) {
    failed = 1;
    reasons.push(`!! vitest exited with status ${vitestExit} (an error outside any test: see the log above)`);
  }
  if (failed === 0 && passed === 0) {
    failed = 1;
    reasons.push('!! no test passed');
  }
  const skipped = Number(results.numPendingTests ?? 0) + Number(results.numTodoTests ?? 0);
  return { passed, failed, skipped, reasons, exitCode: failed > 0 ? 1 : 0 };
}

function main(argv) {
  const args = argv.filter((a) => !a.startsWith('--vitest-exit='));
  const exitArg = argv.find((a) => a.startsWith('--vitest-exit='));
  const vitestExit = exitArg === undefined ? undefined : Number(exitArg.slice('--vitest-exit='.length));
  const file = args[0] ?? '.vitest-results.json';
  let results;
  try {
    results = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.log(`!! no test results could be read from ${file}: ${error instanceof Error ? error.message : String(error)}`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const summary = summarize(results, vitestExit);
  for (const reason of summary.reasons) console.log(reason);
  console.log(`${summary.skipped} skipped (never counted as passed; the log says why for each)`);
  console.log(`${summary.passed} passed, ${summary.failed} failed`);
  return summary.exitCode;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let code;
  try {
    code = main(process.argv.slice(2));
  } catch (error) {
    console.log(`!! summarizing the results failed: ${error instanceof Error ? error.message : String(error)}`);
    console.log('0 passed, 1 failed');
    code = 1;
  }
  process.exit(code);
}
