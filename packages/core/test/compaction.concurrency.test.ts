import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compose, withCompaction, type SessionItem } from '@sessionkit/core';
import { type CompactionStore } from '@sessionkit/core/compaction';
// Relative import: core cannot depend on @sessionkit/sqlite (it depends on core); vitest maps it to the same source.
import { SqliteStore } from '../../sqlite/src/index.js';

// The conformance suite runs withCompaction below its threshold (docs/decorators/compaction.md says why).
// This is the test of compaction actually firing under concurrency, on a real SqliteStore: appends from two
// handles on one file race compactions from both, and no appended item may be lost or duplicated — each is
// either still in the history or inside a summary whose summarizer call was given it.

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-compaction-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SUMMARY = 'summary:';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('withCompaction under concurrency (SqliteStore)', () => {
  it('parallel appends racing compactions from two handles lose no item and duplicate none', async () => {
    const path = join(dir, 'race.db');
    // What each summary stands for: the exact items its summarizer call was given.
    const covered = new Map<string, SessionItem[]>();
    let summaries = 0;
    const errors: unknown[] = [];
    let compactions = 0;
    // Compactions that met a concurrent write (retried, or gave up): proof the race happened.
    let contended = 0;
    const stack = (seed: number) => {
      let random = seed;
      return compose(
        new SqliteStore({ path }),
        withCompaction({
          summarize: async (items) => {
            // A varying delay widens the window in which appends land between read and apply.
            random = (random * 1103515245 + 12345) % 2147483648;
            await sleep(random % 7);
            const id = `${SUMMARY}${++summaries}`;
            covered.set(id, [...items]);
            return [{ role: 'system', content: id }];
          },
          maxItems: 8,
          keepLast: 3,
          onCompacted: (result) => {
            compactions++;
            if (result.attempts > 1) contended++;
          },
          // Giving up under contention is allowed (the history is then unchanged); anything else is a failure.
          onError: (error, { phase }) => {
            if (phase === 'apply' && (error as { code?: string }).code === 'CONFLICT') contended++;
            else errors.push(error);
          },
        }),
      );
    };
    const handles: CompactionStore[] = [stack(7), stack(11)];
    const appended: string[] = [];
    const writers = 6;
    const batches = 12;
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const handle = handles[writer % handles.length]!;
        for (let b = 0; b < batches; b++) {
          const batch = [0, 1].map((i) => ({ role: 'user', content: `w${writer}-b${b}-${i}` }));
          appended.push(...batch.map((item) => item.content));
          await handle.addItems('hot', batch);
          if (b % 3 === writer % 3) await sleep(1);
        }
      }),
    );
    await Promise.all(handles.map((handle) => handle.idle()));
    // A last compaction with no writer racing it: it must apply (the history is over the threshold).
    await handles[0]!.compact('hot');

    const history = await handles[1]!.getItems('hot');
    const expand = (item: SessionItem): string[] => {
      const content = String(item.content);
      if (!content.startsWith(SUMMARY)) return [content];
      const items = covered.get(content);
      expect(items, `summary ${content} is not one the summarizer produced`).toBeDefined();
      return items!.flatMap(expand);
    };
    const leaves = history.flatMap(expand);
    expect(errors).toEqual([]);
    expect(compactions).toBeGreaterThan(0);
    expect(contended, 'no compaction met a concurrent write: the test raced nothing').toBeGreaterThan(0);
    expect(history.length).toBeLessThanOrEqual(8);
    // Every appended item exactly once, nothing else.
    expect([...leaves].sort()).toEqual([...appended].sort());
    // Each writer's items in the order it wrote them, each batch contiguous.
    for (let writer = 0; writer < writers; writer++) {
      const mine = leaves.filter((c) => c.startsWith(`w${writer}-`));
      expect(mine).toEqual(Array.from({ length: batches }, (_, b) => [`w${writer}-b${b}-0`, `w${writer}-b${b}-1`]).flat());
      for (let b = 0; b < batches; b++) {
        const at = leaves.indexOf(`w${writer}-b${b}-0`);
        expect(leaves[at + 1]).toBe(`w${writer}-b${b}-1`);
      }
    }
    await Promise.all(handles.map((handle) => handle.close()));
  });
});
