import { isSessionError } from '@sessionkit/core';
import { expect } from 'vitest';

/** Asserts that `fn` throws a SessionError with `code` (synchronously: the document and run helpers are pure). */
export function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(isSessionError(error, code as never), String(error)).toBe(true);
    return;
  }
  throw new Error(`expected ${code}`);
}
