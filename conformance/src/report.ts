import type { ConformanceReport, TestResult } from './runner.js';

const MARK: Record<TestResult['status'], string> = { passed: '✓', failed: '✗', skipped: '-', waived: '~' };

/** One line per test, grouped by category, with the reason under every failure, skip and waiver. */
export function formatResult(result: TestResult): string {
  const head = `${MARK[result.status]} ${result.level.padEnd(6)} ${result.id}  ${result.title}`;
  const time = result.status === 'passed' || result.status === 'failed' ? ` (${result.durationMs} ms)` : '';
  const why =
    result.status === 'failed'
      ? `\n      ${result.reason?.split('\n').join('\n      ')}`
      : result.status === 'skipped'
        ? `\n      skipped: ${result.reason}`
        : result.status === 'waived'
          ? `\n      WAIVED: ${result.reason}`
          : '';
  return head + time + why;
}

/** "base: 52/52 passed; extended: transactions, replaceHistory, historyMutations, listing, ttl". */
export function formatCoverage(report: Pick<ConformanceReport, 'base' | 'extended'>): string {
  return `base: ${report.base.passed}/${report.base.ran} passed; extended: ${report.extended.join(', ') || 'none'}`;
}

/** The readable report the CLI prints. */
export function formatReport(report: ConformanceReport): string {
  const lines = [`sessionkit conformance: ${report.name}`];
  // Declared means `true`, as everywhere in the kit: a truthy non-boolean is a manifest problem, in the warnings.
  const declared = Object.entries(report.capabilities)
    .filter(([, on]) => on === true)
    .map(([name]) => name);
  lines.push(`capabilities: ${declared.join(', ') || 'none'}`);
  lines.push(formatCoverage(report));
  let category = '';
  for (const result of report.results) {
    if (result.category !== category) {
      category = result.category;
      lines.push('', `  ${category}`);
    }
    lines.push(`    ${formatResult(result).split('\n').join('\n    ')}`);
  }
  const { must, should, skipped, waived } = report.summary;
  if (report.warnings?.length) {
    lines.push('', 'WARNINGS (what the run could not check, or read from a doubtful manifest):');
    for (const warning of report.warnings) lines.push(`  ! ${warning}`);
  }
  lines.push(
    '',
    `MUST ${must.passed} passed, ${must.failed} failed · SHOULD ${should.passed} passed, ${should.failed} failed · ${skipped} skipped · ${waived} waived`,
    formatCoverage(report),
    report.ok ? 'RESULT: conforms (every MUST that ran passed)' : 'RESULT: does NOT conform',
  );
  return lines.join('\n');
}
