/**
 * The history as runs of item sequence numbers: which item documents a
 * session document names, and how a write changes that list while keeping
 * it short. Pure arithmetic, unit-tested without a server.
 */

/** A run of item sequence numbers, `[start, end)`. */
export type SeqRun = [start: number, end: number];

/** Contiguous runs of ascending sequence numbers: [3,4,5,9] → [[3,6],[9,10]]. */
export function seqRuns(seqs: readonly number[]): SeqRun[] {
  const sorted = [...seqs].sort((a, b) => a - b);
  const runs: SeqRun[] = [];
  for (const seq of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[1] === seq) last[1] = seq + 1;
    else if (!last || last[1] < seq) runs.push([seq, seq + 1]);
  }
  return runs;
}

/**
 * The newest run an append copies forward (rewrites at new sequence numbers)
 * when it cannot extend it, instead of leaving a gap. Pops and replaced
 * suffixes end the newest run below `next`; without copying, every
 * pop-then-append cycle would add a run for good. With it, every run but the
 * newest holds more than this many items, so a history of `count` items has
 * at most `1 + count / (MERGE_RUN_ITEMS + 1)` runs, and an append copies at
 * most this many items.
 */
export const MERGE_RUN_ITEMS = 8;

/** How a write changes the runs. */
export interface AppendPlan {
  /** Newest remaining items rewritten ahead of the new ones (the run they form is dropped from `runs`). */
  readonly carry: number;
  /** The runs after the write. */
  readonly runs: SeqRun[];
  /** `next` after the write: the new item documents take `[start, end)`, carried ones first. */
  readonly end: number;
}

/**
 * The runs after dropping the newest `drop` items and appending `n` new
 * ones at sequence numbers from `start` (the session's `next`). When the
 * newest remaining run ends below `start` and holds at most `maxCarry` items,
 * its items are carried: rewritten at `[start, start + carry)` before the new
 * ones, so the history stays one run there.
 */
export function planAppend(
  runs: readonly SeqRun[],
  drop: number,
  start: number,
  n: number,
  maxCarry = MERGE_RUN_ITEMS,
): AppendPlan {
  const kept = dropNewest(runs, drop);
  if (n === 0) return { carry: 0, runs: kept, end: start };
  const last = kept[kept.length - 1];
  const carry = last && last[1] !== start && last[1] - last[0] <= maxCarry ? last[1] - last[0] : 0;
  const base = carry > 0 ? kept.slice(0, -1) : kept;
  const end = start + carry + n;
  return { carry, runs: appendRange(base, start, end), end };
}

/** Total number of sequence numbers in the runs. */
export function runsLength(runs: readonly SeqRun[]): number {
  let total = 0;
  for (const [start, end] of runs) total += end - start;
  return total;
}

/** The sequence numbers of the newest `n` items, oldest first. */
export function tailSeqs(runs: readonly SeqRun[], n: number): number[] {
  const out: number[] = [];
  for (let i = runs.length - 1; i >= 0 && out.length < n; i--) {
    const [start, end] = runs[i]!;
    for (let seq = end - 1; seq >= start && out.length < n; seq--) out.push(seq);
  }
  return out.reverse();
}

/** The runs without their newest `k` items. */
export function dropNewest(runs: readonly SeqRun[], k: number): SeqRun[] {
  const out = runs.map(([start, end]) => [start, end] as SeqRun);
  let left = k;
  while (left > 0 && out.length > 0) {
    const last = out[out.length - 1]!;
    const take = Math.min(left, last[1] - last[0]);
    last[1] -= take;
    left -= take;
    if (last[1] === last[0]) out.pop();
  }
  return out;
}

/** The runs with `[start, end)` appended as the newest items (merged when contiguous). */
export function appendRange(runs: readonly SeqRun[], start: number, end: number): SeqRun[] {
  const out = runs.map(([s, e]) => [s, e] as SeqRun);
  if (end <= start) return out;
  const last = out[out.length - 1];
  if (last && last[1] === start) last[1] = end;
  else out.push([start, end]);
  return out;
}
