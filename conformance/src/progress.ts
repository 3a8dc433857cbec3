import { fstatSync } from 'node:fs';
import { formatResult } from './report.js';
import type { TestResult } from './runner.js';

/** Where the CLI's per-test progress goes while the suite runs (the report itself goes to stdout). */
export interface Progress {
  readonly onResult?: (result: TestResult) => void;
  /** Clears what the progress left on the screen; call before the report. */
  done(): void;
}

/** True when stdout and stderr are one file or pipe (`2>&1`, a CI log), where progress lines would repeat the report. */
function sameDestination(): boolean {
  try {
    const out = fstatSync(1);
    const err = fstatSync(2);
    return out.dev === err.dev && out.ino === err.ino;
  } catch {
    return false;
  }
}

/**
 * Progress without printing any result twice: in a terminal, one status line
 * on stderr, rewritten after each test and cleared before the report; when
 * stderr goes somewhere other than stdout (a report piped or redirected),
 * one line per test on stderr; when both go to one place, nothing but the
 * report.
 */
export function progressFor(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    let ran = 0;
    let failed = 0;
    const clear = () => stream.write('\r\x1b[K');
    return {
      onResult(result) {
        ran++;
        if (result.status === 'failed') failed++;
        const line = `[${ran}/${total}]${failed ? ` ${failed} failed ·` : ''} ${formatResult(result).split('\n')[0]}`;
        clear();
        stream.write(line.length > (stream.columns || 80) - 1 ? `${line.slice(0, (stream.columns || 80) - 2)}…` : line);
      },
      done: clear,
    };
  }
  if (sameDestination()) return { done() {} };
  return { onResult: (result) => stream.write(`${formatResult(result).split('\n')[0]}\n`), done() {} };
}
