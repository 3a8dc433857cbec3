import { describeError } from './checks.js';

/**
 * The run cannot start (or finish) because of the harness or the store it
 * returns: a create() that throws or never settles, a bad waiver or scale, a
 * capability manifest that is not booleans. The CLI prints the message in one
 * line, with its cause, and exits 2.
 */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

/** The one line the CLI prints for a HarnessError's cause. */
export function describeCause(error: unknown): string {
  return describeError(error).split('\n')[0]!;
}
