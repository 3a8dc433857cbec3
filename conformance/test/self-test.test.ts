import { describe, expect, it } from 'vitest';
import { SessionError, SessionErrorCode, type CallOptions, type HistoryTransactionArgs, type SessionStore } from '@sessionkit/core';
import { ForwardingStore } from '@sessionkit/core/adapter';
import {
  BROKEN_STORES,
  brokenStoreHarness,
  conformanceTests,
  formatReport,
  runConformance,
  type BrokenStoreFlaw,
  type ConformanceHarness,
} from '../src/index.js';
// @ts-expect-error: plain JavaScript fixture (children import it), no declarations.
import { fileStoreHarness } from './fixtures/file-store.mjs';

const fileHarness = fileStoreHarness as (options: {
  lock: boolean;
  replace?: 'atomic' | 'clear-then-add';
  transactions?: 'locked' | 'unlocked';
}) => ConformanceHarness;

/**
 * Broken stores that need other processes, so they are file-backed fixtures
 * rather than flaws of the in-memory reference: the same file store with and
 * without its cross-process lock.
 */
const PROCESS_BROKEN_STORES = {
  'unlocked-file-store': {
    description: 'serialises read-modify-writes inside one process only, so writers and poppers in two processes lose batches and pop twice',
    caughtBy: ['concurrency.processes', 'concurrency.process-pops'],
  },
  'clear-then-add-file-store': {
    description: 'replaces the history as the Agents SDK falls back to doing: clear, then add, so a reader in another process sees it empty',
    caughtBy: ['replace.atomic-across-processes'],
  },
  'tx-unlocked-file-store': {
    description:
      'takes the cross-process lock for appends and pops but serialises transactions inside one process only, so a transaction loses another process’s batch or applies an operation twice',
    caughtBy: ['concurrency.process-transactions'],
  },
} as const;

/**
 * MUST tests no broken store is shown to fail, each with the reason. Keep it
 * short: a MUST nobody can fail proves nothing.
 */
const UNCAUGHT_MUST_TESTS: Readonly<Record<string, string>> = {};

// The kit proves itself: the correct reference store passes every test, and
// each deliberately broken store fails the tests that exist to catch it.

describe('the reference store', () => {
  it('passes every test in the catalogue (an in-memory store cannot be shared with other processes)', async () => {
    const report = await runConformance('reference', brokenStoreHarness());
    const notPassed = report.results.filter((r) => r.status !== 'passed').map((r) => `${r.id}: ${r.status} ${r.reason ?? ''}`);
    const noProcesses = 'the harness has no processes: cross-process tests not run (the store declares persistent: give the harness processes)';
    expect(notPassed).toEqual([
      `concurrency.processes: skipped ${noProcesses}`,
      `concurrency.process-pops: skipped ${noProcesses}`,
      `concurrency.process-transactions: skipped ${noProcesses}`,
      'tx.preconditions-refused: skipped the store declares transactionPreconditions',
      'append.expected-length-refused: skipped the store declares conditionalAppend',
      `replace.atomic-across-processes: skipped ${noProcesses}`,
    ]);
    expect(report.warnings).toEqual([noProcesses]);
    expect(report.ok).toBe(true);
    expect(report.results).toHaveLength(conformanceTests.length);
  }, 180_000);
});

describe('the cross-process tests', () => {
  const only = [...PROCESS_BROKEN_STORES['unlocked-file-store'].caughtBy];

  it(`fail the broken store "unlocked-file-store" (${PROCESS_BROKEN_STORES['unlocked-file-store'].description})`, async () => {
    const report = await runConformance('unlocked', fileHarness({ lock: false }), { only });
    for (const id of only) expect(report.results.find((r) => r.id === id)?.status, `${id} must fail`).toBe('failed');
    expect(report.ok).toBe(false);
  }, 120_000);

  it('pass the same file store holding a cross-process lock', async () => {
    const report = await runConformance('locked', fileHarness({ lock: true }), { only });
    expect(report.results.map((r) => `${r.id}: ${r.status} ${r.reason ?? ''}`.trim())).toEqual(only.map((id) => `${id}: passed`));
    expect(report.warnings).toEqual([]);
  }, 120_000);
});

describe('the cross-process replacement test', () => {
  const only = [...PROCESS_BROKEN_STORES['clear-then-add-file-store'].caughtBy];

  it(`fails the broken store "clear-then-add-file-store" (${PROCESS_BROKEN_STORES['clear-then-add-file-store'].description})`, async () => {
    const report = await runConformance('clear-then-add', fileHarness({ lock: true, replace: 'clear-then-add' }), { only });
    const result = report.results.find((r) => r.id === only[0]);
    expect(result?.status).toBe('failed');
    expect(result?.reason).toMatch(/neither old nor new/);
    expect(report.ok).toBe(false);
  }, 120_000);

  it('passes the same file store replacing by one atomic rename', async () => {
    const report = await runConformance('atomic-replace', fileHarness({ lock: true }), { only });
    expect(report.results.map((r) => `${r.id}: ${r.status} ${r.reason ?? ''}`.trim())).toEqual(only.map((id) => `${id}: passed`));
  }, 120_000);
});

describe('the cross-process transaction test', () => {
  const only = [...PROCESS_BROKEN_STORES['tx-unlocked-file-store'].caughtBy];

  it(`fails the broken store "tx-unlocked-file-store" (${PROCESS_BROKEN_STORES['tx-unlocked-file-store'].description})`, async () => {
    const report = await runConformance('tx-unlocked', fileHarness({ lock: true, transactions: 'unlocked' }), { only });
    expect(report.results.find((r) => r.id === only[0])?.status).toBe('failed');
    expect(report.ok).toBe(false);
  }, 120_000);

  it('passes the same file store applying transactions under its cross-process lock', async () => {
    const report = await runConformance('tx-locked', fileHarness({ lock: true, transactions: 'locked' }), { only });
    expect(report.results.map((r) => `${r.id}: ${r.status} ${r.reason ?? ''}`.trim())).toEqual(only.map((id) => `${id}: passed`));
  }, 120_000);
});

describe.each(Object.keys(BROKEN_STORES) as BrokenStoreFlaw[])('the broken store "%s"', (flaw) => {
  const { caughtBy, description } = BROKEN_STORES[flaw];
  it(`is caught by ${caughtBy.join(', ')} (${description})`, async () => {
    const report = await runConformance(flaw, brokenStoreHarness(flaw), { only: caughtBy });
    for (const id of caughtBy) {
      const result = report.results.find((r) => r.id === id);
      expect(result?.status, `${id} must fail for "${flaw}"`).toBe('failed');
      expect(result?.level).toBe('MUST');
    }
    expect(report.ok).toBe(false);
  }, 60_000);
});

/** A correct size-limited store: the reference, refusing any item over 512 KiB with TOO_LARGE before it writes anything. */
class RefusesBigItemsFirst extends ForwardingStore {
  #check(items: unknown): void {
    const big = (item: unknown) => {
      try {
        return (JSON.stringify(item)?.length ?? 0) > 512 * 1024;
      } catch {
        return false; // not JSON: the inner store refuses it as INVALID_ITEM
      }
    };
    if (Array.isArray(items) && items.some(big)) throw new SessionError(SessionErrorCode.TooLarge, 'item is larger than 512 KiB');
  }
  override async addItems(sessionId: string, items: readonly unknown[], options?: CallOptions): Promise<void> {
    this.#check(items);
    return super.addItems(sessionId, items, options);
  }
  override async replaceHistory(sessionId: string, items: readonly unknown[], options?: CallOptions): Promise<void> {
    this.#check(items);
    return super.replaceHistory(sessionId, items, options);
  }
  override async applyHistoryTransaction(sessionId: string, args: HistoryTransactionArgs<unknown>, options?: CallOptions): Promise<void> {
    const tx = (args as { transaction?: { items?: unknown; replacement?: unknown } } | undefined)?.transaction;
    this.#check(tx?.items ?? tx?.replacement);
    return super.applyHistoryTransaction(sessionId, args, options);
  }
}

describe('a size-limited store (fidelity.large-items waived, as such a store may)', () => {
  const waivers = { 'fidelity.large-items': 'the backend holds items of at most 512 KiB' };
  const only = ['fidelity.', 'refused.'];
  const statuses = (report: { results: readonly { id: string; status: string }[] }) =>
    Object.fromEntries(report.results.filter((r) => r.status !== 'passed').map((r) => [r.id, r.status]));

  it('does not conform when it half-writes a batch it refuses ("too-large-after-partial-write")', async () => {
    const report = await runConformance('half-writes', { ...brokenStoreHarness('too-large-after-partial-write'), waivers }, { only });
    expect(statuses(report)).toEqual({
      'fidelity.large-items': 'waived',
      'refused.add-items': 'failed',
      'refused.transaction': 'failed',
      'refused.replace': 'failed',
    });
    expect(report.results.find((r) => r.id === 'refused.add-items')?.reason).toMatch(/refused \(TOO_LARGE\) but the session changed/);
    expect(report.ok).toBe(false);
  }, 120_000);

  it('conforms when it refuses the same items before writing any', async () => {
    const inner = brokenStoreHarness();
    const harness: ConformanceHarness = { create: async (options) => new RefusesBigItemsFirst(await inner.create(options)), waivers };
    const report = await runConformance('refuses-first', harness, { only });
    expect(statuses(report)).toEqual({ 'fidelity.large-items': 'waived' });
    expect(report.ok).toBe(true);
  }, 120_000);
});

describe('the report of optional capabilities', () => {
  it('lists what the store has, from its manifest and its methods, beside the base score', async () => {
    const report = await runConformance('reference', brokenStoreHarness(), { only: ['basic.', 'replace.read-back'] });
    expect(report.extended).toEqual([
      'transactions',
      'transactionPreconditions',
      'conditionalAppend',
      'readChanges',
      'replaceHistory',
      'historyMutations',
      'listing',
      'sessionInfo',
      'prune',
      'ttl',
      'persistent',
      'atomicReadModifyWrite',
    ]);
    const basic = conformanceTests.filter((t) => t.id.startsWith('basic.')).length;
    // replace.read-back needs a capability: it is not a base test.
    expect(report.base).toEqual({ passed: basic, ran: basic });
    const text = formatReport(report);
    expect(text).toContain(
      `base: ${basic}/${basic} passed; extended: transactions, transactionPreconditions, conditionalAppend, readChanges, replaceHistory, historyMutations, listing, sessionInfo, prune, ttl, persistent, atomicReadModifyWrite`,
    );
  });

  it('leaves out what a store lacks, and warns about a capability declared without its method', async () => {
    const files = fileHarness({ lock: true });
    const report = await runConformance('file', files, { only: ['basic.append-read'] });
    expect(report.extended).toEqual(['replaceHistory', 'persistent', 'atomicReadModifyWrite']);
    expect(formatReport(report)).toContain('base: 1/1 passed; extended: replaceHistory, persistent, atomicReadModifyWrite');
    const inner = brokenStoreHarness();
    const claiming: ConformanceHarness = {
      create: async (options) => {
        const store = await inner.create(options);
        // Declares everything the reference does, but has only the base methods.
        return {
          capabilities: store.capabilities,
          getItems: (id, o) => store.getItems(id, o),
          addItems: (id, items) => store.addItems(id, items),
          popItem: (id) => store.popItem(id),
          clearSession: (id) => store.clearSession(id),
          close: () => store.close(),
        } satisfies SessionStore;
      },
    };
    const claimed = await runConformance('claims', claiming, { only: ['basic.append-read'] });
    expect(claimed.extended).not.toContain('replaceHistory');
    expect(claimed.warnings).toContain('the store declares replaceHistory but has no replaceHistory() method: its tests will fail');
  });
});

describe('the catalogue', () => {
  it('has unique, stable-looking ids, each MUST or SHOULD with a title', () => {
    const ids = conformanceTests.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const test of conformanceTests) {
      expect(test.id).toMatch(/^[a-z]+\.[a-z0-9-]+$/);
      expect(['MUST', 'SHOULD']).toContain(test.level);
      expect(test.title.length).toBeGreaterThan(10);
    }
  });

  it('names only real tests in the broken stores’ expectations', () => {
    const ids = new Set(conformanceTests.map((t) => t.id));
    for (const { caughtBy } of [...Object.values(BROKEN_STORES), ...Object.values(PROCESS_BROKEN_STORES)]) {
      for (const id of caughtBy) expect(ids.has(id), id).toBe(true);
    }
  });

  it('shows every MUST test failing for at least one broken store, apart from a short, reasoned list', () => {
    const caught = new Set(
      [...Object.values(BROKEN_STORES), ...Object.values(PROCESS_BROKEN_STORES)].flatMap(({ caughtBy }) => [...caughtBy] as string[]),
    );
    const must = conformanceTests.filter((t) => t.level === 'MUST').map((t) => t.id);
    expect(must.filter((id) => !caught.has(id) && !(id in UNCAUGHT_MUST_TESTS)), 'MUST tests no broken store fails').toEqual([]);
    for (const [id, reason] of Object.entries(UNCAUGHT_MUST_TESTS)) {
      expect(must, `exception ${id} names a MUST test`).toContain(id);
      expect(caught.has(id), `exception ${id} is caught after all: drop it`).toBe(false);
      expect(reason.trim().length).toBeGreaterThan(20);
    }
    expect(Object.keys(UNCAUGHT_MUST_TESTS).length).toBeLessThanOrEqual(3);
  });

  it('reports waivers with their reason, and refuses a waiver without one or for an unknown id', async () => {
    const waived = { ...brokenStoreHarness('pops-oldest'), waivers: { 'basic.pop-newest': 'this store is a stack on purpose' } };
    const report = await runConformance('waived', waived, { only: ['basic.pop-newest'] });
    expect(report.results[0]).toMatchObject({ status: 'waived', reason: 'this store is a stack on purpose' });
    expect(report.summary.waived).toBe(1);
    await expect(runConformance('x', { ...brokenStoreHarness(), waivers: { 'basic.pop-newest': ' ' } })).rejects.toThrow(/reason/);
    await expect(runConformance('x', { ...brokenStoreHarness(), waivers: { 'no.such-test': 'why' } })).rejects.toThrow(/unknown/);
  });

  it('tx.preconditions-refused fails a store that ignores expectedLength without declaring it, and passes one that refuses it', async () => {
    const refusing = await brokenStoreHarness().create();
    const declared = refusing.capabilities;
    const undeclared = (ignore: boolean): SessionStore => ({
      capabilities: { ...declared, transactionPreconditions: false },
      getItems: (s, o) => refusing.getItems(s, o),
      addItems: (s, i) => refusing.addItems(s, i),
      popItem: (s) => refusing.popItem(s),
      clearSession: (s) => refusing.clearSession(s),
      applyHistoryTransaction: (s, { expectedLength, identity, ...args }) => {
        if (!ignore && (expectedLength !== undefined || identity !== undefined)) {
          return Promise.reject(new SessionError(SessionErrorCode.Unsupported, 'no preconditions'));
        }
        return refusing.applyHistoryTransaction!(s, args);
      },
      close: async () => {},
    });
    for (const ignore of [true, false]) {
      const report = await runConformance('undeclared', { create: async () => { await refusing.clearSession('s'); return undeclared(ignore); } }, {
        only: ['tx.preconditions-refused'],
      });
      expect(report.results[0]?.status, `ignore=${ignore}`).toBe(ignore ? 'failed' : 'passed');
    }
    await refusing.close();
  });

  it('skips, never passes, tests whose needs the store or harness lack', async () => {
    const { reopen: _reopen, injectCorruptItem: _inject, ...bare } = brokenStoreHarness();
    const report = await runConformance('bare', bare, { only: ['persistence.reopen', 'corrupt.', 'concurrency.processes'] });
    expect(report.results.length).toBeGreaterThan(3);
    for (const result of report.results) {
      expect(result.status).toBe('skipped');
      expect(result.reason).toMatch(/the harness has no \w+(\(\))?: .+ not run/);
    }
  });

  it('warns, in the result reasons, the JSON and the readable report, when a persistent store’s harness has no reopen or processes', async () => {
    const { reopen: _reopen, ...bare } = brokenStoreHarness();
    const report = await runConformance('bare', bare, { only: ['persistence.', 'concurrency.two-handles', 'concurrency.processes'] });
    expect(report.warnings).toEqual([
      'the harness has no reopen(): persistence-across-reopen and two-handle tests not run (the store declares persistent: give the harness reopen())',
      'the harness has no processes: cross-process tests not run (the store declares persistent: give the harness processes)',
    ]);
    expect(report.results.every((r) => r.status === 'skipped' && /declares persistent: give the harness/.test(r.reason ?? ''))).toBe(true);
    expect(JSON.parse(JSON.stringify(report)).warnings).toEqual(report.warnings);
    const text = formatReport(report);
    expect(text).toContain('WARNINGS');
    for (const warning of report.warnings) expect(text).toContain(`! ${warning}`);
    // A store that does not persist owes neither.
    const memory: ConformanceHarness = {
      async create() {
        const store = await bare.create();
        return Object.defineProperty(store, 'capabilities', { value: { ...store.capabilities, persistent: false } });
      },
    };
    expect((await runConformance('memory', memory, { only: ['basic.clear'] })).warnings).toEqual([]);
  });
});
