import { SessionError, SessionErrorCode, isSessionError } from '../errors.js';
import type { SessionItem, SessionStore } from '../types.js';
import { STORE_OPERATIONS, type StoreOperation } from '../operations.js';
import { ForwardingStore } from '../forwarding-store.js';
import { assertSessionIdMode, resolveHashSalt, SessionLabeler, type SessionIdMode } from '../session-label.js';

/** The store operations that are measured. */
export type MonitoredOperation = StoreOperation;

const OPERATIONS = STORE_OPERATIONS;

/** One finished operation. Never carries item contents; the session only as `sessionIds` says. */
export interface OperationEvent {
  readonly store: string;
  readonly operation: MonitoredOperation;
  readonly durationMs: number;
  readonly ok: boolean;
  /** The SessionError code, or `UNKNOWN` for anything else. Absent when `ok`. */
  readonly errorCode?: string;
  /** The session: a salted SHA-256 prefix by default, the raw id, or absent (see `sessionIds`). */
  readonly session?: string;
  /** How many items were read, added, popped or written by a transaction; sessions listed; sessions pruned. */
  readonly count?: number;
}

/** The subset of an OpenTelemetry `Span` used here. */
export interface MonitoringSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** Span options passed to the tracer. */
export interface MonitoringSpanOptions {
  kind?: number;
  attributes?: Record<string, string | number | boolean>;
}

/** The subset of an OpenTelemetry `Tracer` used here: pass `trace.getTracer(...)`. */
export interface MonitoringTracer {
  startSpan(name: string, options?: MonitoringSpanOptions): MonitoringSpan;
  /**
   * When present (OpenTelemetry tracers have it), operations run inside their
   * span, so spans of the store beneath (a driver's instrumentation, another
   * monitored layer) become its children.
   */
  startActiveSpan?(name: string, options: MonitoringSpanOptions, fn: (span: MonitoringSpan) => Promise<unknown>): Promise<unknown>;
}

/** The subset of an OpenTelemetry `Meter` used here: pass `metrics.getMeter(...)`. */
export interface MonitoringMeter {
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): { record(value: number, attributes?: Record<string, string | number | boolean>): void };
  createCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): { add(value: number, attributes?: Record<string, string | number | boolean>): void };
}

export interface MonitoringOptions {
  /** Names the store in figures, events, spans and metrics. Default: the wrapped store's class name. */
  readonly storeName?: string;
  /** Called after every operation. Errors it throws never reach the caller. Default: none. */
  readonly onOperation?: (event: OperationEvent) => void;
  /** Operations at least this slow go to `onSlow`. Default: 1000 ms. */
  readonly slowThresholdMs?: number;
  /**
   * Called for each slow operation. Default: one `console.warn` line naming
   * the store, the operation and the duration (no session id).
   */
  readonly onSlow?: (event: OperationEvent) => void;
  /** Receives errors thrown by `onOperation` / `onSlow`. Default: they are dropped. */
  readonly onHookError?: (error: unknown) => void;
  /**
   * How events and spans name the session: `'hash'` (first 16 hex chars of
   * SHA-256 of salt, NUL, id), `'raw'`, or `'omit'`. Metrics never carry it. Default: `'hash'`.
   */
  readonly sessionIds?: SessionIdMode;
  /**
   * Salt for hashed session ids. Default: 16 random bytes per decorator
   * instance, so hashes of guessable ids cannot be reversed; labels then
   * differ between processes and restarts. Give a secret salt to keep labels
   * stable across them.
   */
  readonly hashSalt?: string;
  /** Emit one span per operation through this tracer. Default: none. */
  readonly tracer?: MonitoringTracer;
  /** Record `sessionkit.operation.duration` and `sessionkit.operation.errors` through this meter. Default: none. */
  readonly meter?: MonitoringMeter;
  /**
   * Use the global tracer and meter of `@opentelemetry/api` (an optional
   * peer dependency, loaded on first use) for whichever of `tracer` / `meter`
   * is not given. If the package cannot be loaded, operations go on without
   * it (observability never breaks storage) and `onTelemetryUnavailable` is
   * called once. Default: `false`.
   */
  readonly openTelemetry?: boolean;
  /**
   * Called once, with an UNSUPPORTED SessionError (the import failure as its
   * `cause`), when `openTelemetry: true` cannot load `@opentelemetry/api`.
   * Default: one `console.warn` line per store.
   */
  readonly onTelemetryUnavailable?: (error: SessionError) => void;
  /** Upper bounds (ms) of the latency histogram buckets, ascending. Default: {@link DEFAULT_LATENCY_BUCKETS}. */
  readonly latencyBuckets?: readonly number[];
}

/** Default latency bucket bounds in milliseconds (a last bucket catches everything above). */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
];

/** Figures for one operation of one store. */
export interface OperationStats {
  readonly count: number;
  readonly errors: number;
  /** Failures by SessionError code (`UNKNOWN` for other errors). */
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly totalMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Estimated from the buckets (linear within a bucket), capped at `maxMs`. 0 before any call. */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** Calls per bucket: `le` is the bucket's upper bound in ms (`Infinity` for the last). Not cumulative. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
}

export interface MonitoringStats {
  readonly store: string;
  readonly operations: Readonly<Record<MonitoredOperation, OperationStats>>;
}

const SPAN_KIND_CLIENT = 2; // SpanKind.CLIENT
const STATUS_ERROR = 2; // SpanStatusCode.ERROR
const TRACER_NAME = '@sessionkit/core';

type Histogram = ReturnType<MonitoringMeter['createHistogram']>;
type Counter = ReturnType<MonitoringMeter['createCounter']>;

interface Telemetry {
  tracer?: MonitoringTracer;
  duration?: Histogram;
  errors?: Counter;
}

class Figures {
  count = 0;
  errors = 0;
  readonly errorsByCode = new Map<string, number>();
  totalMs = 0;
  minMs = Infinity;
  maxMs = 0;
  readonly counts: number[];

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  record(ms: number, errorCode: string | undefined): void {
    this.count++;
    this.totalMs += ms;
    this.minMs = Math.min(this.minMs, ms);
    this.maxMs = Math.max(this.maxMs, ms);
    let i = 0;
    while (i < this.bounds.length && ms > this.bounds[i]!) i++;
    this.counts[i]!++;
    if (errorCode !== undefined) {
      this.errors++;
      this.errorsByCode.set(errorCode, (this.errorsByCode.get(errorCode) ?? 0) + 1);
    }
  }

  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const n = this.counts[i]!;
      if (n > 0 && seen + n >= rank) {
        const low = i === 0 ? 0 : this.bounds[i - 1]!;
        const high = i < this.bounds.length ? this.bounds[i]! : this.maxMs;
        const estimate = low + ((rank - seen) / n) * (high - low);
        return Math.min(Math.max(estimate, this.minMs), this.maxMs);
      }
      seen += n;
    }
    return this.maxMs;
  }

  snapshot(): OperationStats {
    return {
      count: this.count,
      errors: this.errors,
      errorsByCode: Object.fromEntries([...this.errorsByCode].sort(([a], [b]) => (a < b ? -1 : 1))),
      totalMs: this.totalMs,
      minMs: this.count === 0 ? 0 : this.minMs,
      maxMs: this.maxMs,
      meanMs: this.count === 0 ? 0 : this.totalMs / this.count,
      p50Ms: this.quantile(0.5),
      p90Ms: this.quantile(0.9),
      p99Ms: this.quantile(0.99),
      buckets: this.counts.map((count, i) => ({ le: i < this.bounds.length ? this.bounds[i]! : Infinity, count })),
    };
  }
}

function errorCodeOf(error: unknown): string {
  return isSessionError(error) ? error.code : 'UNKNOWN';
}

function invalid(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/**
 * Measures every operation of the store it wraps: counts, errors by code and
 * a latency histogram per operation (`stats()`), an `onOperation` hook, slow
 * operation reports, and OpenTelemetry spans and metrics when given a tracer
 * or meter. Records counts and durations only: never item contents, and
 * session ids only hashed unless asked.
 */
export class MonitoringStore<TItem = SessionItem> extends ForwardingStore<TItem> {
  readonly #options: MonitoringOptions;
  readonly #store: string;
  readonly #slowMs: number;
  readonly #labels: SessionLabeler;
  readonly #figures = new Map<MonitoredOperation, Figures>();
  #telemetry: Telemetry | undefined;
  #telemetryLoading: Promise<Telemetry> | undefined;

  constructor(inner: SessionStore<TItem>, options: MonitoringOptions = {}) {
    super(inner);
    const slow = options.slowThresholdMs ?? 1000;
    if (typeof slow !== 'number' || !(slow >= 0)) throw invalid('slowThresholdMs must be a non-negative number');
    assertSessionIdMode(options.sessionIds);
    this.#labels = new SessionLabeler(options.sessionIds, resolveHashSalt(options.hashSalt));
    const bounds = options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS;
    if (!Array.isArray(bounds) || bounds.length === 0 || bounds.some((b, i) => !(b > 0) || (i > 0 && b <= bounds[i - 1]!))) {
      throw invalid('latencyBuckets must be positive numbers in ascending order');
    }
    this.#options = options;
    this.#slowMs = slow;
    this.#store = options.storeName ?? (inner as object).constructor?.name ?? 'store';
    for (const operation of OPERATIONS) this.#figures.set(operation, new Figures(bounds));
    const telemetry: Telemetry = {};
    if (options.tracer) telemetry.tracer = options.tracer;
    if (options.meter) Object.assign(telemetry, this.#instruments(options.meter));
    if (options.onTelemetryUnavailable !== undefined && typeof options.onTelemetryUnavailable !== 'function') {
      throw invalid('onTelemetryUnavailable must be a function');
    }
    if (options.openTelemetry && (!options.tracer || !options.meter)) {
      this.#telemetryLoading = this.#loadGlobal(telemetry);
    } else {
      this.#telemetry = telemetry;
    }
  }

  #instruments(meter: MonitoringMeter): Pick<Telemetry, 'duration' | 'errors'> {
    return {
      duration: meter.createHistogram('sessionkit.operation.duration', {
        description: 'Duration of sessionkit store operations',
        unit: 'ms',
        advice: { explicitBucketBoundaries: [...(this.#options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS)] },
      }),
      errors: meter.createCounter('sessionkit.operation.errors', {
        description: 'Failed sessionkit store operations, by error code',
      }),
    };
  }

  /** Never rejects: without the package (or if its globals throw), operations run with whatever telemetry was given. */
  async #loadGlobal(telemetry: Telemetry): Promise<Telemetry> {
    try {
      const api = await import('@opentelemetry/api');
      const tracer = telemetry.tracer ?? api.trace.getTracer(TRACER_NAME);
      const instruments = telemetry.duration ? {} : this.#instruments(api.metrics.getMeter(TRACER_NAME));
      telemetry.tracer = tracer;
      Object.assign(telemetry, instruments);
    } catch (cause) {
      const error = new SessionError(
        SessionErrorCode.Unsupported,
        'withMonitoring: openTelemetry: true but @opentelemetry/api could not be loaded; monitoring goes on without OpenTelemetry',
        { cause },
      );
      try {
        if (this.#options.onTelemetryUnavailable) this.#options.onTelemetryUnavailable(error);
        else console.warn(`sessionkit: ${error.message} (${cause instanceof Error ? cause.message : String(cause)})`);
      } catch {
        // A failing handler must not fail the operations either.
      }
    }
    this.#telemetry = telemetry;
    return telemetry;
  }

  /** Figures per operation since the store was created (or since `resetStats()`). */
  stats(): MonitoringStats {
    const operations = {} as Record<MonitoredOperation, OperationStats>;
    for (const [operation, figures] of this.#figures) operations[operation] = figures.snapshot();
    return { store: this.#store, operations };
  }

  /** Starts the figures of `stats()` afresh. */
  resetStats(): void {
    const bounds = this.#options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS;
    for (const operation of OPERATIONS) this.#figures.set(operation, new Figures(bounds));
  }

  #sessionLabel(sessionId: string | undefined): string | undefined {
    if (sessionId === undefined || typeof sessionId !== 'string') return undefined;
    return this.#labels.label(sessionId);
  }

  #hook(hook: ((event: OperationEvent) => void) | undefined, event: OperationEvent): void {
    if (!hook) return;
    try {
      hook(event);
    } catch (error) {
      try {
        this.#options.onHookError?.(error);
      } catch {
        // A failing error handler must not fail the operation either.
      }
    }
  }

  async #telemetryReady(): Promise<Telemetry> {
    return this.#telemetry ?? (await this.#telemetryLoading!);
  }

  #spanOptions(operation: MonitoredOperation, session: string | undefined): MonitoringSpanOptions {
    return {
      kind: SPAN_KIND_CLIENT,
      attributes: {
        'sessionkit.store': this.#store,
        'sessionkit.operation': operation,
        ...(session !== undefined ? { 'sessionkit.session': session } : {}),
      },
    };
  }

  /** Starts measuring one operation (in `span` when given, else a span of its own); the returned function finishes it. */
  #begin(telemetry: Telemetry, operation: MonitoredOperation, sessionId: string | undefined, activeSpan?: MonitoringSpan) {
    const started = performance.now();
    const session = this.#sessionLabel(sessionId);
    const span = activeSpan ?? telemetry.tracer?.startSpan(`sessionkit.${operation}`, this.#spanOptions(operation, session));
    return (error: unknown, failed: boolean, count: number | undefined) => {
      const durationMs = performance.now() - started;
      const errorCode = failed ? errorCodeOf(error) : undefined;
      this.#figures.get(operation)!.record(durationMs, errorCode);
      if (telemetry.duration !== undefined || (errorCode !== undefined && telemetry.errors !== undefined)) {
        const attributes: Record<string, string> = {
          'sessionkit.store': this.#store,
          'sessionkit.operation': operation,
          'sessionkit.outcome': failed ? 'error' : 'ok',
          ...(errorCode !== undefined ? { 'error.type': errorCode } : {}),
        };
        telemetry.duration?.record(durationMs, attributes);
        if (errorCode !== undefined) telemetry.errors?.add(1, attributes);
      }
      if (span) {
        if (count !== undefined) span.setAttribute('sessionkit.count', count);
        if (errorCode !== undefined) {
          // The code only: backend error messages may quote ids or data.
          span.setAttribute('error.type', errorCode);
          span.setStatus({ code: STATUS_ERROR, message: errorCode });
        }
        span.end();
      }
      const event: OperationEvent = {
        store: this.#store,
        operation,
        durationMs,
        ok: !failed,
        ...(errorCode !== undefined ? { errorCode } : {}),
        ...(session !== undefined ? { session } : {}),
        ...(count !== undefined ? { count } : {}),
      };
      this.#hook(this.#options.onOperation, event);
      if (durationMs >= this.#slowMs) {
        if (this.#options.onSlow) this.#hook(this.#options.onSlow, event);
        else console.warn(`sessionkit: slow ${operation} on ${this.#store}: ${durationMs.toFixed(1)} ms`);
      }
    };
  }

  async #measure<R>(
    operation: MonitoredOperation,
    sessionId: string | undefined,
    run: () => Promise<R>,
    count: (result: R) => number | undefined,
  ): Promise<R> {
    // Telemetry loads once (openTelemetry: true); after that no operation waits a turn for it.
    const telemetry = this.#telemetry ?? (await this.#telemetryReady());
    const tracer = telemetry.tracer;
    if (typeof tracer?.startActiveSpan === 'function') {
      const options = this.#spanOptions(operation, this.#sessionLabel(sessionId));
      return tracer.startActiveSpan(`sessionkit.${operation}`, options, (span) =>
        this.#timed(this.#begin(telemetry, operation, sessionId, span), run, count),
      ) as Promise<R>;
    }
    return this.#timed(this.#begin(telemetry, operation, sessionId), run, count);
  }

  async #timed<R>(
    finish: (error: unknown, failed: boolean, count: number | undefined) => void,
    run: () => Promise<R>,
    count: (result: R) => number | undefined,
  ): Promise<R> {
    let result: R;
    try {
      result = await run();
    } catch (error) {
      finish(error, true, undefined);
      throw error;
    }
    finish(undefined, false, count(result));
    return result;
  }

  /** Every forwarded operation is measured here; a listing from its first `next()` to its end. */
  protected override around<R>(
    operation: StoreOperation,
    sessionId: string | undefined,
    call: () => Promise<R>,
    written?: number,
  ): Promise<R> {
    return this.#measure(operation, sessionId, call, (result) => countOf(operation, result, written));
  }
}

/** The `count` an event reports: items read or written, 0/1 for single answers, sessions listed or pruned. */
function countOf(operation: StoreOperation, result: unknown, written: number | undefined): number | undefined {
  switch (operation) {
    case 'getItems':
      return (result as unknown[]).length;
    case 'readChanges':
      return (result as { items: unknown[] }).items.length;
    case 'popItem':
    case 'getSessionInfo':
      return result === undefined ? 0 : 1;
    case 'listSessions':
    case 'prune':
      return result as number;
    case 'clearSession':
    case 'applyHistoryMutations':
      return undefined;
    default:
      return written;
  }
}

/**
 * Latency and error figures per operation, slow-operation reports, an
 * `onOperation` hook, and OpenTelemetry spans and metrics. See
 * docs/decorators/monitoring.md.
 */
export function withMonitoring<TItem = SessionItem>(
  options: MonitoringOptions = {},
): (store: SessionStore<TItem>) => MonitoringStore<TItem> {
  return (store) => new MonitoringStore<TItem>(store, options);
}
