import { describeConformance } from '@sessionkit/conformance';
import { sqliteFileHarness, sqliteMemoryHarness } from './harness.js';

describeConformance('SqliteStore (file)', sqliteFileHarness());
describeConformance('SqliteStore (:memory:)', sqliteMemoryHarness());
