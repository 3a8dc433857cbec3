export type { ConformanceHarness, CreateOptions, ProcessHarness } from './harness.js';
export type { AppendJob, ConformanceTest, Level, PopJob, ProcessJob, Requirement, TestContext } from './conformance-test.js';
export { categoryOf, harnessWarnings, unmetRequirement } from './conformance-test.js';
export { conformanceTests, HOSTILE_IDS, SDK_ITEMS, invalidItems } from './catalogue/index.js';
export {
  probeCapabilities,
  runConformance,
  selectTests,
  type ConformanceReport,
  type RunOptions,
  type TestResult,
  type TestStatus,
} from './runner.js';
export { formatReport, formatResult } from './report.js';
export { describeConformance } from './describe.js';
export type { DescribeConformanceOptions } from './vitest.js';
export { brokenStoreHarness, BROKEN_STORES, type BrokenStoreFlaw } from './broken-stores.js';
export { trackLocations, type LocationTracker } from './locations.js';
export * from './fault-injection.js';
