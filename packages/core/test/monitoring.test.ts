import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, context, metrics, trace, type Context, type ContextManager } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MemoryStore,
  SessionErrorCode,
  compose,
  withMonitoring,
  type GetItemsOptions,
} from '@sessionkit/core';
import { type OperationEvent } from '@sessionkit/core/monitoring';
import { ForwardingStore } from '@sessionkit/core/adapter';

const SECRET_ID = 'user-4711@example.com';
const SECRET_TEXT = 'the launch code is 0000';
const secretItems = [{ role: 'user', content: SECRET_TEXT }, { role: 'assistant', content: `re: ${SECRET_TEXT}` }];

/** A store whose reads take `delayMs`. */
class SlowReads extends ForwardingStore {
  constructor(private readonly delayMs: number) {
    super(new MemoryStore());
  }
  override async getItems(sessionId: string, options?: GetItemsOptions) {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return super.getItems(sessionId, options);
  }
}

function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider, tracer: provider.getTracer('test') };
}

function metering() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    meter: provider.getMeter('test'),
    async collect(): Promise<ResourceMetrics[]> {
      await reader.forceFlush();
      return exporter.getMetrics();
    },
  };
}

/** Runs a small workload with one failing call of each of two kinds. */
async function workload(store: ReturnType<ReturnType<typeof withMonitoring>>) {
  await store.addItems(SECRET_ID, secretItems);
  await store.getItems(SECRET_ID);
  await store.getItems(SECRET_ID, { limit: 1 });
  await store.popItem(SECRET_ID);
  await store.applyHistoryTransaction(SECRET_ID, {
    operationId: 'op-1',
    transaction: { type: 'append_items', items: [{ role: 'user', content: SECRET_TEXT }] },
  });
  await expect(store.getItems(SECRET_ID, { limit: -1 })).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
  await expect(
    store.applyHistoryTransaction(SECRET_ID, {
      operationId: 'op-2',
      transaction: { type: 'replace_suffix', expectedSuffix: [{ content: 'nope' }], replacement: [] },
    }),
  ).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
  for await (const _ of store.listSessions()) {
    // drain
  }
  await store.getSessionInfo(SECRET_ID);
  await store.clearSession(SECRET_ID);
}

/** The OpenTelemetry context manager of @opentelemetry/context-async-hooks, in a few lines (that package is not a dependency). */
class AsyncContext implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A) {
    return this.#storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
  trace.disable();
  metrics.disable();
  context.disable();
});

describe('withMonitoring', () => {
  it('keeps count, errors by code and a latency distribution per operation', async () => {
    const store = withMonitoring({ storeName: 'mem' })(new MemoryStore());
    await workload(store);
    const { store: name, operations } = store.stats();
    expect(name).toBe('mem');
    expect(operations.getItems).toMatchObject({ count: 3, errors: 1, errorsByCode: { INVALID_ARGUMENT: 1 } });
    expect(operations.applyHistoryTransaction).toMatchObject({ count: 2, errors: 1, errorsByCode: { CONFLICT: 1 } });
    expect(operations.addItems).toMatchObject({ count: 1, errors: 0, errorsByCode: {} });
    expect(operations.popItem.count).toBe(1);
    expect(operations.listSessions.count).toBe(1);
    expect(operations.getSessionInfo.count).toBe(1);
    expect(operations.clearSession.count).toBe(1);
    expect(operations.prune.count).toBe(0);
    for (const figures of Object.values(operations)) {
      expect(figures.buckets.reduce((sum, b) => sum + b.count, 0)).toBe(figures.count);
      expect(figures.buckets.at(-1)!.le).toBe(Infinity);
      if (figures.count > 0) {
        expect(figures.minMs).toBeLessThanOrEqual(figures.p50Ms);
        expect(figures.p50Ms).toBeLessThanOrEqual(figures.p99Ms);
        expect(figures.p99Ms).toBeLessThanOrEqual(figures.maxMs);
        expect(figures.meanMs).toBeCloseTo(figures.totalMs / figures.count);
      }
    }
    store.resetStats();
    expect(store.stats().operations.getItems.count).toBe(0);
  });

  it('places latencies in the right buckets and estimates quantiles from them', async () => {
    const store = withMonitoring({ latencyBuckets: [10, 1000], slowThresholdMs: 10_000 })(new SlowReads(30));
    await store.addItems('s', [{ content: 'a' }]);
    for (let i = 0; i < 4; i++) await store.getItems('s');
    const figures = store.stats().operations.getItems;
    expect(figures.buckets).toEqual([
      { le: 10, count: 0 },
      { le: 1000, count: 4 },
      { le: Infinity, count: 0 },
    ]);
    expect(figures.minMs).toBeGreaterThanOrEqual(25);
    expect(figures.p50Ms).toBeGreaterThanOrEqual(figures.minMs);
    expect(figures.p99Ms).toBeLessThanOrEqual(figures.maxMs);
  });

  it('calls onOperation with figures only, and hashes session ids by default', async () => {
    const events: OperationEvent[] = [];
    const store = withMonitoring({ onOperation: (e) => events.push(e) })(new MemoryStore());
    await workload(store);
    expect(events.map((e) => e.operation)).toEqual([
      'addItems',
      'getItems',
      'getItems',
      'popItem',
      'applyHistoryTransaction',
      'getItems',
      'applyHistoryTransaction',
      'listSessions',
      'getSessionInfo',
      'clearSession',
    ]);
    expect(events[0]).toMatchObject({ store: 'MemoryStore', ok: true, count: 2 });
    expect(events[1]).toMatchObject({ count: 2 });
    expect(events[5]).toMatchObject({ ok: false, errorCode: 'INVALID_ARGUMENT' });
    expect(events[7]).toMatchObject({ count: 1 });
    expect(events[0]!.session).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(events.filter((e) => e.operation !== 'listSessions').map((e) => e.session)).size).toBe(1);
    expect(events[7]!.session).toBeUndefined();
    const text = JSON.stringify(events);
    expect(text).not.toContain(SECRET_ID);
    expect(text).not.toContain('launch code');
  });

  it('names sessions raw, salted-hashed or not at all, as asked', async () => {
    const seen: Record<string, (string | undefined)[]> = {};
    for (const [mode, extra] of [
      ['raw', {}],
      ['omit', {}],
      ['hash', {}],
      ['salted', { hashSalt: 'pepper' }],
    ] as const) {
      seen[mode] = [];
      const sessionIds = mode === 'salted' ? 'hash' : mode;
      const store = withMonitoring({ sessionIds, ...extra, onOperation: (e) => seen[mode]!.push(e.session) })(new MemoryStore());
      await store.getItems(SECRET_ID);
    }
    expect(seen.raw).toEqual([SECRET_ID]);
    expect(seen.omit).toEqual([undefined]);
    expect(seen.hash![0]).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.salted![0]).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.salted![0]).not.toBe(seen.hash![0]);
  });

  it('hashes with a random per-instance salt by default; an explicit salt gives stable labels across instances', async () => {
    const label = async (options: { hashSalt?: string }) => {
      let session: string | undefined;
      const store = withMonitoring({ ...options, onOperation: (e) => void (session = e.session) })(new MemoryStore());
      await store.getItems('alice@example.com');
      return session;
    };
    const [a, b] = [await label({}), await label({})];
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    // An unsalted hash of a guessable id would be reversible by hashing guesses: the default is not it.
    const { createHash } = await import('node:crypto');
    const unsalted = createHash('sha256').update('').update('\0').update('alice@example.com').digest('hex').slice(0, 16);
    expect([a, b]).not.toContain(unsalted);
    expect(await label({ hashSalt: 'pepper' })).toBe(await label({ hashSalt: 'pepper' }));
    expect(() => withMonitoring({ hashSalt: 42 as never })(new MemoryStore())).toThrow(
      expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
    );
  });

  it('reports slow operations to onSlow, or with one console line without the session id', async () => {
    const slow: OperationEvent[] = [];
    const store = withMonitoring({ slowThresholdMs: 20, onSlow: (e) => slow.push(e) })(new SlowReads(40));
    await store.addItems(SECRET_ID, [{ content: 'x' }]);
    await store.getItems(SECRET_ID);
    expect(slow.map((e) => e.operation)).toEqual(['getItems']);
    expect(slow[0]!.durationMs).toBeGreaterThanOrEqual(20);

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const noisy = withMonitoring({ slowThresholdMs: 20, storeName: 'slow-store' })(new SlowReads(40));
    await noisy.addItems(SECRET_ID, [{ content: SECRET_TEXT }]);
    await noisy.getItems(SECRET_ID);
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String(warn.mock.calls[0]![0]);
    expect(line).toMatch(/slow getItems on slow-store: \d+\.\d ms/);
    expect(line).not.toContain(SECRET_ID);
    expect(line).not.toContain(SECRET_TEXT);
  });

  it('hook errors never fail the operation; onHookError receives them', async () => {
    const hookErrors: unknown[] = [];
    const store = withMonitoring({
      onOperation: () => {
        throw new Error('hook broke');
      },
      onHookError: (e) => hookErrors.push(e),
    })(new MemoryStore());
    await store.addItems('s', [{ content: 'a' }]);
    expect(await store.getItems('s')).toEqual([{ content: 'a' }]);
    expect(hookErrors).toHaveLength(2);
  });

  it('emits one OpenTelemetry span per operation, with codes on failures and no contents', async () => {
    const { exporter, tracer } = tracing();
    const store = withMonitoring({ tracer, storeName: 'mem' })(new MemoryStore());
    await workload(store);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual([
      'sessionkit.addItems',
      'sessionkit.getItems',
      'sessionkit.getItems',
      'sessionkit.popItem',
      'sessionkit.applyHistoryTransaction',
      'sessionkit.getItems',
      'sessionkit.applyHistoryTransaction',
      'sessionkit.listSessions',
      'sessionkit.getSessionInfo',
      'sessionkit.clearSession',
    ]);
    expect(spans[0]!.kind).toBe(2); // CLIENT
    expect(spans[0]!.attributes).toMatchObject({
      'sessionkit.store': 'mem',
      'sessionkit.operation': 'addItems',
      'sessionkit.count': 2,
    });
    expect(spans[0]!.attributes['sessionkit.session']).toMatch(/^[0-9a-f]{16}$/);
    expect(spans[6]!.status).toMatchObject({ code: 2, message: 'CONFLICT' });
    expect(spans[6]!.attributes['error.type']).toBe('CONFLICT');
    expect(spans[1]!.status.code).toBe(0);
    const text = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })));
    expect(text).not.toContain(SECRET_ID);
    expect(text).not.toContain('launch code');
  });

  it('runs each operation inside its span, so spans of the layers beneath are its children', async () => {
    context.setGlobalContextManager(new AsyncContext());
    const { exporter, tracer } = tracing();
    const inner = withMonitoring({ tracer, storeName: 'inner' })(new MemoryStore());
    const outer = withMonitoring({ tracer, storeName: 'outer' })(inner);
    await tracer.startActiveSpan('app', async (app) => {
      await outer.addItems('s', [{ content: 'a' }]);
      app.end();
    });
    const spans = exporter.getFinishedSpans();
    const byStore = (name: string) => spans.find((s) => s.attributes['sessionkit.store'] === name)!;
    const root = spans.find((s) => s.name === 'app')!;
    expect(byStore('outer').parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(byStore('inner').parentSpanContext?.spanId).toBe(byStore('outer').spanContext().spanId);
    expect(byStore('inner').spanContext().traceId).toBe(root.spanContext().traceId);
  });

  it('records duration and error metrics by store, operation and outcome, never by session', async () => {
    const { meter, collect } = metering();
    const store = withMonitoring({ meter, storeName: 'mem' })(new MemoryStore());
    await workload(store);
    const exported = await collect();
    const all = exported.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const latest = (name: string) => all.filter((m) => m.descriptor.name === name).at(-1)!;
    const duration = latest('sessionkit.operation.duration');
    expect(duration.descriptor.unit).toBe('ms');
    const points = duration.dataPoints as { attributes: Record<string, unknown>; value: { count: number } }[];
    const countOf = (operation: string, outcome: string) =>
      points.find((p) => p.attributes['sessionkit.operation'] === operation && p.attributes['sessionkit.outcome'] === outcome)?.value
        .count;
    expect(countOf('getItems', 'ok')).toBe(2);
    expect(countOf('getItems', 'error')).toBe(1);
    expect(countOf('addItems', 'ok')).toBe(1);
    const errors = latest('sessionkit.operation.errors').dataPoints as { attributes: Record<string, unknown>; value: number }[];
    expect(errors.map((p) => [p.attributes['sessionkit.operation'], p.attributes['error.type'], p.value]).sort()).toEqual([
      ['applyHistoryTransaction', 'CONFLICT', 1],
      ['getItems', 'INVALID_ARGUMENT', 1],
    ]);
    for (const point of [...points, ...errors]) {
      expect(Object.keys(point.attributes).sort()).toEqual(
        point.attributes['error.type'] === undefined
          ? ['sessionkit.operation', 'sessionkit.outcome', 'sessionkit.store']
          : ['error.type', 'sessionkit.operation', 'sessionkit.outcome', 'sessionkit.store'],
      );
    }
    const text = JSON.stringify(exported);
    expect(text).not.toContain(SECRET_ID);
    expect(text).not.toContain('launch code');
  });

  it('openTelemetry: true uses the global tracer and meter of @opentelemetry/api', async () => {
    const { exporter, provider } = tracing();
    const m = metering();
    trace.setGlobalTracerProvider(provider);
    metrics.setGlobalMeterProvider(m.provider);
    const store = withMonitoring({ openTelemetry: true })(new MemoryStore());
    await store.addItems('s', [{ content: 'a' }]);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['sessionkit.addItems']);
    expect(exporter.getFinishedSpans()[0]!.instrumentationScope.name).toBe('@sessionkit/core');
    const names = (await m.collect()).flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((x) => x.descriptor.name)));
    expect(names).toContain('sessionkit.operation.duration');
  });

  it('forwards every capability and composes', async () => {
    const inner = new MemoryStore();
    const store = compose(inner, withMonitoring());
    expect(store.capabilities).toEqual(inner.capabilities);
    await store.session('s').addItems([{ content: 'a' }]);
    expect(store.stats().operations.addItems.count).toBe(1);
    expect(() => withMonitoring({ slowThresholdMs: -1 })(new MemoryStore())).toThrow(
      expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
    );
    expect(() => withMonitoring({ latencyBuckets: [5, 1] })(new MemoryStore())).toThrow(
      expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
    );
  });
});
