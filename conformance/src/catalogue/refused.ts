import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { isSessionError, type SessionStore } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { batch, collect, describeError, msg } from '../checks.js';

// A store may refuse a write it cannot hold — an item or batch over its size
// limit, more items than one request takes, a backend that says no — but a
// refusal must change nothing, exactly as a bad item does: the contract's
// "a batch lands whole or not at all". The kit cannot make every backend
// refuse, so it writes batches that trip the limits real backends have and
// accepts either outcome: landed whole, or refused with the session exactly
// as it was. Sizes are not scaled: reaching the limits is the point. (Not
// larger: every write of a 17 MiB item costs seconds of encoding alone, in
// every store and every stack that runs the suite.)

const KiB = 1024;
const MiB = 1024 * KiB;

/** A tool output of about `bytes` characters whose content starts with `label`. */
const sized = (label: string, bytes: number) => ({ role: 'tool', content: `${label}:`.padEnd(bytes, 'x') });

/** Batches that reach the limits real backends have, each named for the report. */
export function demandingBatches(): Array<[what: string, items: unknown[]]> {
  return [
    ['a batch with a 1 MiB item after two small ones', [msg('small-1'), msg('small-2'), sized('big', MiB), msg('small-3')]],
    ['a 4 MiB batch of 16 items of 256 KiB', Array.from({ length: 16 }, (_, i) => sized(`part-${i}`, 256 * KiB))],
    ['a batch of 1000 small items', batch('many', 1000)],
  ];
}

const BEFORE = [msg('before-1'), msg('before-2')];

/** Compares histories without printing megabytes of items on a mismatch. */
function assertSame(actual: readonly unknown[], expected: readonly unknown[], message: string): void {
  if (isDeepStrictEqual(actual, expected)) return;
  const at = actual.findIndex((item, i) => !isDeepStrictEqual(item, expected[i]));
  assert.fail(`${message}: read ${actual.length} items where ${expected.length} were expected${at >= 0 ? `, first difference at ${at}` : ''}`);
}

/**
 * Runs `write`; when it succeeds the session must hold `accepted`, when it
 * fails the failure must be a SessionError and the session must hold exactly
 * `before` — read whole, by its tail, described and listed — and take the
 * next append right after `before`.
 */
async function landsWholeOrNotAtAll(
  store: SessionStore,
  sessionId: string,
  before: readonly unknown[],
  accepted: readonly unknown[],
  write: () => Promise<void>,
  what: string,
): Promise<'accepted' | 'refused'> {
  let refusal: unknown;
  try {
    await write();
  } catch (error) {
    refusal = error ?? new Error('rejected with nothing');
  }
  if (refusal === undefined) {
    assertSame(await store.getItems(sessionId), accepted, `${what} was accepted but did not land whole`);
    return 'accepted';
  }
  assert.ok(isSessionError(refusal), `${what} was refused with ${describeError(refusal)}, not a SessionError`);
  const refused = `${what} was refused (${refusal.code}) but the session changed`;
  assertSame(await store.getItems(sessionId), before, refused);
  assertSame(await store.getItems(sessionId, { limit: 1 }), before.slice(-1), `${refused} (read by its tail)`);
  if (store.capabilities.sessionInfo) {
    const info = await store.getSessionInfo!(sessionId);
    assert.equal(info?.itemCount, before.length === 0 ? undefined : before.length, `${refused} (getSessionInfo)`);
  }
  if (store.capabilities.listSessions) {
    const listed = (await collect(store.listSessions!())).some((info) => info.sessionId === sessionId);
    assert.equal(listed, before.length > 0, `${refused} (listSessions)`);
  }
  await store.addItems(sessionId, [msg('after')]);
  assertSame(await store.getItems(sessionId), [...before, msg('after')], `${refused}: the next append did not follow the old history`);
  return 'refused';
}

export const refusedTests: ConformanceTest[] = [
  {
    id: 'refused.add-items',
    level: 'MUST',
    title: 'a batch the store refuses for any reason (too large, too many items, a backend refusal) leaves the session exactly as it was; one it accepts lands whole',
    timeout: 120_000,
    async run(ctx) {
      const store = await ctx.create();
      for (const [k, [what, items]] of demandingBatches().entries()) {
        await store.addItems(`s${k}`, BEFORE);
        await landsWholeOrNotAtAll(store, `s${k}`, BEFORE, [...BEFORE, ...items], () => store.addItems(`s${k}`, items), what);
        await landsWholeOrNotAtAll(store, `fresh${k}`, [], items, () => store.addItems(`fresh${k}`, items), `${what} (on a new session)`);
      }
    },
  },
  {
    id: 'refused.transaction',
    level: 'MUST',
    title: 'a transaction the store refuses for its size leaves the session as it was and its operation id unused; one it accepts lands whole',
    requires: ['transactions'],
    timeout: 120_000,
    async run(ctx) {
      const store = await ctx.create();
      const apply = (sessionId: string, operationId: string, transaction: unknown) =>
        store.applyHistoryTransaction!(sessionId, { operationId, transaction } as never);
      for (const [k, [what, items]] of demandingBatches().entries()) {
        const appendTo = `append${k}`;
        await store.addItems(appendTo, BEFORE);
        const appended = await landsWholeOrNotAtAll(
          store,
          appendTo,
          BEFORE,
          [...BEFORE, ...items],
          () => apply(appendTo, 'op', { type: 'append_items', items }),
          `append_items with ${what}`,
        );
        if (appended === 'refused') {
          // The refused transaction was not recorded: another one may use its id.
          await apply(appendTo, 'op', { type: 'append_items', items: [msg('retry')] });
          assertSame(await store.getItems(appendTo), [...BEFORE, msg('after'), msg('retry')], `append_items with ${what}: its operation id was used`);
        }
        const swapIn = `replace${k}`;
        await store.addItems(swapIn, BEFORE);
        await landsWholeOrNotAtAll(
          store,
          swapIn,
          BEFORE,
          [BEFORE[0], ...items],
          () => apply(swapIn, 'op', { type: 'replace_suffix', expectedSuffix: BEFORE.slice(1), replacement: items }),
          `replace_suffix with ${what}`,
        );
      }
    },
  },
  {
    id: 'refused.replace',
    level: 'MUST',
    title: 'a replacement the store refuses for its size leaves the old history in place; one it accepts lands whole',
    requires: ['replaceHistory'],
    timeout: 120_000,
    async run(ctx) {
      const store = await ctx.create();
      for (const [k, [what, items]] of demandingBatches().entries()) {
        await store.addItems(`s${k}`, BEFORE);
        await landsWholeOrNotAtAll(store, `s${k}`, BEFORE, items, () => store.replaceHistory!(`s${k}`, items), `replaceHistory with ${what}`);
        await landsWholeOrNotAtAll(store, `fresh${k}`, [], items, () => store.replaceHistory!(`fresh${k}`, items), `replaceHistory with ${what} (on a new session)`);
      }
    },
  },
];
