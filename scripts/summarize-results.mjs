// Prints vitest's JSON results: the skipped count (skips are never passes),
// then the one closing line CI reads: "N passed, N failed". Exits 1 when the file is missing or any test failed.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
let results;
try {
  results = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed (no test results were written)');
  process.exit(1);
}
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
// A suite that failed to load counts as a failure even though it ran no test.
const failed = results.numFailedTests + (results.numFailedTestSuites > 0 && results.numFailedTests === 0 ? results.numFailedTestSuites : 0);
console.log(`${skipped} skipped (never counted as passed; the log says why for each)`);
console.log(`${results.numPassedTests} passed, ${failed} failed`);
process.exit(failed > 0 || results.numPassedTests === 0 ? 1 : 0);
