import assert from 'node:assert/strict';
import { isSessionError, type SessionErrorCode, type SessionStore } from '@sessionkit/core';

/** A realistic message item whose content names it. */
export const msg = (content: string, role = 'user') => ({ role, content });

/** The contents of message items, for compact assertions. */
export const contents = (items: readonly unknown[]) => items.map((item) => (item as { content?: unknown }).content);

/** `count` distinct message items `prefix-0`, `prefix-1`, … */
export const batch = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => msg(`${prefix}-${i}`));

/**
 * Asserts that `action` fails (synchronously or not) with a SessionError of
 * one of `codes`, and returns it.
 */
export async function rejectsWith(
  action: () => unknown,
  codes: SessionErrorCode | readonly SessionErrorCode[],
  what = 'the call',
): Promise<Error> {
  const expected = Array.isArray(codes) ? codes : [codes];
  let outcome: unknown;
  try {
    const value = action();
    if (value && typeof (value as PromiseLike<unknown>).then === 'function') await value;
    else if (value && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
      for await (const _ of value as AsyncIterable<unknown>) break;
    }
  } catch (error) {
    outcome = error;
  }
  assert.ok(outcome !== undefined, `${what} should fail with ${expected.join(' or ')}, but succeeded`);
  assert.ok(
    expected.some((code) => isSessionError(outcome, code)),
    `${what} should fail with a SessionError ${expected.join(' or ')}, got ${describeError(outcome)}`,
  );
  return outcome as Error;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${code !== undefined ? ` [${String(code)}]` : ''}: ${error.message}`;
  }
  return String(error);
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Asserts a session holds exactly `expected` (deep, ordered). */
export async function assertHistory(store: SessionStore, sessionId: string, expected: readonly unknown[], message?: string) {
  assert.deepStrictEqual(await store.getItems(sessionId), expected, message);
}

/**
 * Checks that the items written by concurrent writers are all present exactly
 * once, every batch contiguous and in order, and every writer's batches in
 * the order it wrote them. Item contents are `<writer>-b<batch>-i<index>`.
 */
export function assertInterleavedBatches(
  items: readonly unknown[],
  writers: readonly string[],
  batches: number,
  batchSize: number,
): void {
  const expectedCount = writers.length * batches * batchSize;
  const seen = new Set<string>();
  const parsed = items.map((item, position) => {
    const content = (item as { content?: unknown }).content;
    assert.equal(typeof content, 'string', `item at ${position} is not one of the written items`);
    const match = /^(.*)-b(\d+)-i(\d+)$/.exec(content as string);
    assert.ok(match, `item at ${position} is not one of the written items`);
    assert.ok(!seen.has(content as string), `item ${String(content)} appears more than once`);
    seen.add(content as string);
    return { writer: match[1]!, batch: Number(match[2]), index: Number(match[3]) };
  });
  assert.equal(items.length, expectedCount, `expected ${expectedCount} items, found ${items.length} (lost or duplicated)`);
  const lastBatch = new Map<string, number>();
  for (let i = 0; i < parsed.length; i += batchSize) {
    const first = parsed[i]!;
    assert.equal(first.index, 0, `a batch starts at position ${i} with item index ${first.index}: batches interleaved`);
    for (let j = 1; j < batchSize; j++) {
      const item = parsed[i + j]!;
      assert.ok(
        item.writer === first.writer && item.batch === first.batch && item.index === j,
        `batch ${first.writer}-b${first.batch} is not contiguous and in order at position ${i + j}`,
      );
    }
    const previous = lastBatch.get(first.writer) ?? -1;
    assert.equal(first.batch, previous + 1, `writer ${first.writer}'s batches are out of order`);
    lastBatch.set(first.writer, first.batch);
  }
  for (const writer of writers) assert.equal(lastBatch.get(writer), batches - 1, `writer ${writer} lost batches`);
}

/** Items `<writer>-b<batch>-i<index>` for one batch. */
export const writerBatch = (writer: string, batchNo: number, size: number) =>
  Array.from({ length: size }, (_, i) => msg(`${writer}-b${batchNo}-i${i}`));
