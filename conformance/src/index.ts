export type { ConformanceHarness, CreateOptions, ProcessHarness } from './harness.js';
export type { AppendJob, ConformanceTest, Level, PopJob, ProcessJob, ReplaceJob, Requirement, TestContext, WatchJob } from './conformance-test.js';
export { categoryOf, harnessWarnings, unmetRequirement } from './conformance-test.js';
export { conformanceTests, HOSTILE_IDS, SDK_ITEMS, invalidItems } from './catalogue/index.js';
export {
  detectExtensions,
  isBaseTest,
  probeCapabilities,
  probeStore,
  runConformance,
  selectTests,
  type ConformanceReport,
  type RunOptions,
  type TestResult,
  type TestStatus,
} from './runner.js';
export { formatCoverage, formatReport, formatResult } from './report.js';
export { describeConformance } from './describe.js';
export type { DescribeConformanceOptions } from './vitest.js';
export { brokenStoreHarness, BROKEN_STORES, type BrokenStoreFlaw } from './broken-stores.js';
export { trackLocations, type LocationTracker } from './locations.js';
export * from './fault-injection.js';
