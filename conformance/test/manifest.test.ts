import { describe, expect, it } from 'vitest';
import type { SessionStore, StoreCapabilities } from '@sessionkit/core';
import { brokenStoreHarness, conformanceTests, formatReport, runConformance, type ConformanceHarness } from '../src/index.js';
import { isBaseTest } from '../src/runner.js';

/** The reference store, with its manifest changed by `change`. */
function declaring(change: Record<string, unknown>): ConformanceHarness {
  const inner = brokenStoreHarness();
  return {
    async create(options) {
      const store = await inner.create(options);
      const capabilities = { ...store.capabilities, ...change } as unknown as StoreCapabilities;
      return Object.defineProperty(store, 'capabilities', { value: capabilities }) as SessionStore;
    },
  };
}

describe('the base count', () => {
  it('leaves out every test that needs a capability, the optional conditionalAppend and readChanges included', async () => {
    expect(isBaseTest({ requires: ['conditionalAppend'] })).toBe(false);
    expect(isBaseTest({ requires: ['readChanges', 'reopen'] })).toBe(false);
    expect(isBaseTest({ requires: ['reopen'] })).toBe(true);
    const capabilityTests = conformanceTests.filter((t) => /^(append\.expected-length(-validated)?|changes\..*)$/.test(t.id));
    expect(capabilityTests.length).toBeGreaterThan(3);
    expect(capabilityTests.filter(isBaseTest).map((t) => t.id)).toEqual([]);

    const report = await runConformance('reference', brokenStoreHarness(), { only: ['basic.clear', 'append.', 'changes.appended'] });
    expect(report.results.filter((r) => r.status === 'passed').map((r) => r.id)).toEqual([
      'basic.clear',
      'append.expected-length',
      'append.expected-length-validated',
      'append.expected-length-expired',
      'changes.appended',
    ]);
    expect(report.base).toEqual({ passed: 1, ran: 1 });
  });
});

describe('a capability declared as something other than a boolean', () => {
  it('counts as not declared everywhere (skips, capabilities line, extended), and the report warns about it', async () => {
    const report = await runConformance('yes', declaring({ conditionalAppend: 'yes', readChanges: 1 }), {
      only: ['basic.clear', 'append.expected-length', 'changes.appended'],
    });
    expect(report.capabilities.conditionalAppend).toBe(false);
    expect(report.capabilities.readChanges).toBe(false);
    expect(report.extended).not.toContain('conditionalAppend');
    expect(report.extended).not.toContain('readChanges');
    expect(report.results.find((r) => r.id === 'append.expected-length')).toMatchObject({
      status: 'skipped',
      reason: 'the store does not declare conditionalAppend',
    });
    expect(report.warnings.slice(0, 2)).toEqual([
      'the store declares conditionalAppend as "yes" (a string), not true or false: the kit treats it as not declared',
      'the store declares readChanges as 1 (a number), not true or false: the kit treats it as not declared',
    ]);
    const text = formatReport(report);
    const declared = text.split('\n').find((line) => line.startsWith('capabilities: '))!;
    expect(declared).not.toMatch(/conditionalAppend|readChanges/);
    expect(declared).toContain('transactions');
    for (const warning of report.warnings) expect(text).toContain(`! ${warning}`);
  });

  it('is not listed by formatReport even in a report built by hand', () => {
    const report = {
      name: 'by hand',
      capabilities: { transactions: true, persistent: 'yes' } as unknown as StoreCapabilities,
      extended: ['transactions'],
      base: { passed: 0, ran: 0 },
      results: [],
      summary: { must: { passed: 0, failed: 0 }, should: { passed: 0, failed: 0 }, skipped: 0, waived: 0 },
      warnings: [],
      ok: true,
    };
    expect(formatReport(report)).toContain('\ncapabilities: transactions\n');
  });
});
