/** `@sessionkit/core/monitoring`: the monitoring store, its figures and events, and the tracer/meter shapes it calls. */
export {
  DEFAULT_LATENCY_BUCKETS,
  MonitoringStore,
  type MonitoredOperation,
  type MonitoringMeter,
  type MonitoringSpan,
  type MonitoringSpanOptions,
  type MonitoringStats,
  type MonitoringTracer,
  type OperationEvent,
  type OperationStats,
} from '../decorators/monitoring.js';
