import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, SessionErrorCode, isSessionError, withMonitoring } from '@sessionkit/core';

// As if @opentelemetry/api were not installed: every import of it fails the way a missing package does.
vi.mock('@opentelemetry/api', () => {
  throw Object.assign(new Error("Cannot find package '@opentelemetry/api'"), { code: 'ERR_MODULE_NOT_FOUND' });
});

describe('withMonitoring({ openTelemetry: true }) without @opentelemetry/api', () => {
  afterEach(() => vi.restoreAllMocks());

  it('keeps storing and measuring, and reports the missing package once to onTelemetryUnavailable', async () => {
    const reported: unknown[] = [];
    const store = withMonitoring({ openTelemetry: true, onTelemetryUnavailable: (error) => void reported.push(error) })(new MemoryStore());
    await store.addItems('s', [{ content: 'a' }]);
    await Promise.all([store.addItems('s', [{ content: 'b' }]), store.getItems('s')]);
    expect(await store.getItems('s')).toEqual([{ content: 'a' }, { content: 'b' }]);
    expect(await store.popItem('s')).toEqual({ content: 'b' });
    expect(store.stats().operations.addItems.count).toBe(2);
    expect(store.stats().operations.addItems.errors).toBe(0);
    expect(reported).toHaveLength(1);
    expect(isSessionError(reported[0], SessionErrorCode.Unsupported)).toBe(true);
  });

  it('warns once on the console by default, and an explicit tracer is still used', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const spans: string[] = [];
    const tracer = {
      startSpan: (name: string) => {
        spans.push(name);
        return { setAttribute: () => {}, setStatus: () => {}, end: () => {} };
      },
    };
    const store = withMonitoring({ openTelemetry: true, tracer })(new MemoryStore());
    for (let i = 0; i < 3; i++) await store.addItems('s', [{ content: i }]);
    expect(await store.getItems('s')).toHaveLength(3);
    expect(spans).toEqual(['sessionkit.addItems', 'sessionkit.addItems', 'sessionkit.addItems', 'sessionkit.getItems']);
    const lines = warn.mock.calls.map((call) => String(call[0]));
    expect(lines.filter((line) => line.includes('@opentelemetry/api'))).toHaveLength(1);
  });
});
