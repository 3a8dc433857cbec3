import { describe, expect, it } from 'vitest';
import { SessionErrorCode } from '@sessionkit/core';
import {
  assertSessionId,
  normalizeLimit,
  normalizeMilliseconds,
  normalizeTtl,
  prepareTransaction,
  suffixMatches,
  encodeItem,
} from '@sessionkit/core/adapter';

const invalidArgument = expect.objectContaining({ code: SessionErrorCode.InvalidArgument });

describe('limits', () => {
  it('accepts undefined and non-negative integers only', () => {
    expect(normalizeLimit(undefined)).toBeUndefined();
    expect(normalizeLimit(0)).toBe(0);
    expect(normalizeLimit(5)).toBe(5);
    for (const bad of [-1, 1.5, NaN, Infinity, -Infinity, '3', null]) {
      expect(() => normalizeLimit(bad)).toThrow(invalidArgument);
    }
  });
});

describe('millisecond options', () => {
  it('take the fallback for undefined, accept non-negative integers (0: none), refuse anything else', () => {
    expect(normalizeMilliseconds(undefined, 'timeout', 30_000)).toBe(30_000);
    expect(normalizeMilliseconds(0, 'timeout', 30_000)).toBe(0);
    expect(normalizeMilliseconds(250, 'timeout', 30_000)).toBe(250);
    for (const bad of [-1, 1.5, NaN, Infinity, '100', null]) {
      expect(() => normalizeMilliseconds(bad, 'timeout', 30_000)).toThrow(invalidArgument);
    }
  });
});

describe('session ids', () => {
  it('accepts any well-formed string of 1..512 code units and nothing else', () => {
    for (const ok of ['a', 'x'.repeat(512), '{tag}*?[a]:\n\0', '../..', '👋']) expect(() => assertSessionId(ok)).not.toThrow();
    for (const bad of ['', 'x'.repeat(513), 'a\ud800', 42, null, undefined, { $gt: '' }]) {
      expect(() => assertSessionId(bad)).toThrow(invalidArgument);
    }
  });
});

describe('ttl', () => {
  it('is a positive integer of milliseconds', () => {
    expect(normalizeTtl(undefined)).toBeUndefined();
    expect(normalizeTtl(1000)).toBe(1000);
    for (const bad of [0, -1, 1.5, NaN, '10', 1e15 + 1, Number.MAX_SAFE_INTEGER]) expect(() => normalizeTtl(bad)).toThrow(invalidArgument);
    // The longest ttl still gives an expiry a Date can hold.
    expect(normalizeTtl(1e15)).toBe(1e15);
    expect(Number.isNaN(new Date(Date.now() + 1e15).getTime())).toBe(false);
  });
});

describe('prepareTransaction', () => {
  it('gives equal fingerprints to equal transactions whatever their key order', () => {
    const a = prepareTransaction({ operationId: 'op', transaction: { type: 'append_items', items: [{ a: 1, b: 2 }] } });
    const b = prepareTransaction({ operationId: 'op', transaction: { type: 'append_items', items: [{ b: 2, a: 1 }] } });
    const c = prepareTransaction({ operationId: 'op', transaction: { type: 'append_items', items: [{ a: 1, b: 3 }] } });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
  });

  it('keeps the expected suffix both canonical and as the codec stores it', () => {
    const tx = prepareTransaction({
      operationId: 'op',
      transaction: { type: 'replace_suffix', expectedSuffix: [{ role: 'user', content: 'hi' }], replacement: [] },
    });
    expect(tx.expectedEncoded).toEqual(['{"role":"user","content":"hi"}']);
    expect(tx.expectedSuffix).toEqual(['{"content":"hi","role":"user"}']);
  });

  it('distinguishes append_items from an equivalent replace_suffix', () => {
    const append = prepareTransaction({ operationId: 'op', transaction: { type: 'append_items', items: [{ a: 1 }] } });
    const replace = prepareTransaction({
      operationId: 'op',
      transaction: { type: 'replace_suffix', expectedSuffix: [], replacement: [{ a: 1 }] },
    });
    expect(append.fingerprint).not.toBe(replace.fingerprint);
    expect(append.expectedSuffix).toEqual([]);
    expect(append.replacement).toEqual(replace.replacement);
  });

  it('rejects malformed arguments with INVALID_ARGUMENT and bad items with INVALID_ITEM', () => {
    for (const bad of [
      null,
      { operationId: '', transaction: { type: 'append_items', items: [] } },
      { operationId: '  ', transaction: { type: 'append_items', items: [] } },
      { operationId: 'x'.repeat(257), transaction: { type: 'append_items', items: [] } },
      { operationId: 'op', transaction: { type: 'delete_everything' } },
      { operationId: 'op', transaction: { type: 'replace_suffix', expectedSuffix: [] } },
    ]) {
      expect(() => prepareTransaction(bad as never)).toThrow(invalidArgument);
    }
    expect(() =>
      prepareTransaction({ operationId: 'op', transaction: { type: 'append_items', items: [{ f: () => 1 }] } }),
    ).toThrow(expect.objectContaining({ code: SessionErrorCode.InvalidItem }));
  });

  it('matches stored suffixes by value, ignoring key order', () => {
    const tx = prepareTransaction({
      operationId: 'op',
      transaction: { type: 'replace_suffix', expectedSuffix: [{ a: 1, b: 2 }], replacement: [] },
    });
    expect(suffixMatches([encodeItem({ b: 2, a: 1 })], tx.expectedSuffix)).toBe(true);
    expect(suffixMatches([encodeItem({ a: 1 })], tx.expectedSuffix)).toBe(false);
    expect(suffixMatches([], tx.expectedSuffix)).toBe(false);
  });
});
