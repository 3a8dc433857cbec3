import { describeConformance } from '@sessionkit/conformance';
import { sqliteCallerHandleHarness, sqliteFileHarness, sqliteMemoryHarness } from './harness.js';

describeConformance('SqliteStore (file)', sqliteFileHarness());
describeConformance('SqliteStore (:memory:)', sqliteMemoryHarness());
describeConformance('SqliteStore (caller-owned :memory: handle)', sqliteCallerHandleHarness());
