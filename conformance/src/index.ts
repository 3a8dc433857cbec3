// The kit's public API; docs/api.md lists each name and docs/conformance.md shows their use.
export type { ConformanceHarness, CreateOptions, ProcessHarness } from './harness.js';
export type { ConformanceTest, Requirement, TestContext } from './conformance-test.js';
export { conformanceTests, HOSTILE_IDS } from './catalogue/index.js';
export {
  detectExtensions,
  runConformance,
  type ConformanceReport,
  type RunOptions,
  type TestResult,
  type TestStatus,
} from './runner.js';
export { formatCoverage, formatReport } from './report.js';
export { describeConformance } from './describe.js';
export type { DescribeConformanceOptions } from './suite.js';
export { brokenStoreHarness, BROKEN_STORES, type BrokenStoreFlaw } from './broken-stores/index.js';
export { trackLocations, type LocationTracker } from './locations.js';
export {
  FaultInjectionStore,
  withFaults,
  type FailOptions,
  type FaultOperation,
  type FaultPlan,
  type FaultPlanRule,
  type FaultRule,
  type FaultStats,
  type FaultTarget,
  type FaultTrigger,
  type HangOptions,
} from './fault-injection.js';
