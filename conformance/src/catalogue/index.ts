import type { ConformanceTest } from '../conformance-test.js';
import { appendTests } from './append.js';
import { basicTests } from './basic.js';
import { changesTests } from './changes.js';
import { concurrencyTests } from './concurrency.js';
import { corruptionTests } from './corruption.js';
import { fidelityTests } from './fidelity.js';
import { idTests } from './ids.js';
import { inputTests } from './input.js';
import { lifecycleTests } from './lifecycle.js';
import { limitTests } from './limit.js';
import { listingTests } from './listing.js';
import { mutationTests } from './mutations.js';
import { persistenceTests } from './persistence.js';
import { refusedTests } from './refused.js';
import { replaceTests } from './replace.js';
import { transactionTests } from './transactions.js';
import { ttlTests } from './ttl.js';

/** The whole catalogue, in report order. Ids are stable: never renumber or reuse one. */
export const conformanceTests: readonly ConformanceTest[] = Object.freeze([
  ...basicTests,
  ...limitTests,
  ...idTests,
  ...fidelityTests,
  ...inputTests,
  ...refusedTests,
  ...concurrencyTests,
  ...persistenceTests,
  ...transactionTests,
  ...appendTests,
  ...changesTests,
  ...replaceTests,
  ...mutationTests,
  ...listingTests,
  ...ttlTests,
  ...corruptionTests,
  ...lifecycleTests,
]);

export { HOSTILE_IDS } from './ids.js';
export { SDK_ITEMS } from './fidelity.js';
export { invalidItems } from './input.js';
