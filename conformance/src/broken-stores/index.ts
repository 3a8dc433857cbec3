// Deliberately broken stores: the kit's self-test (and a third party's) proof that the suite can fail.
export { BROKEN_STORES, type BrokenStoreFlaw } from './flaws.js';
export { brokenStoreHarness } from './harness.js';
