import { describe, expect, it } from 'vitest';
import { SessionError, SessionErrorCode, type SessionStore } from '@sessionkit/core';
import { BROKEN_STORES, brokenStoreHarness, conformanceTests, runConformance, type BrokenStoreFlaw } from '../src/index.js';

// The kit proves itself: the correct reference store passes every test, and
// each deliberately broken store fails the tests that exist to catch it.

describe('the reference store', () => {
  it('passes every test in the catalogue (an in-memory store cannot be shared with other processes)', async () => {
    const report = await runConformance('reference', brokenStoreHarness());
    const notPassed = report.results.filter((r) => r.status !== 'passed').map((r) => `${r.id}: ${r.status} ${r.reason ?? ''}`);
    expect(notPassed).toEqual([
      'concurrency.processes: skipped the harness has no processes',
      'concurrency.process-pops: skipped the harness has no processes',
      'tx.preconditions-refused: skipped the store declares transactionPreconditions',
    ]);
    expect(report.ok).toBe(true);
    expect(report.results).toHaveLength(conformanceTests.length);
  }, 180_000);
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
    for (const { caughtBy } of Object.values(BROKEN_STORES)) for (const id of caughtBy) expect(ids.has(id), id).toBe(true);
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
      expect(result.reason).toMatch(/the harness has no/);
    }
  });
});
