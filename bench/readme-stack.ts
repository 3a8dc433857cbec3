import { compose, withCache, withEncryption, withMonitoring, type SessionStore } from '@sessionkit/core';

/** The benchmarks' key ring: one fixed raw key (figures, not secrets). */
export const keys = { k1: new Uint8Array(32).fill(9) };

/** Budgets other than the defaults (64 MiB each): withCache's `maxBytes`, withEncryption's `plaintextCacheBytes`. */
export interface Budgets {
  readonly maxBytes?: number;
  readonly plaintextCacheBytes?: number;
}

/** The stack the README recommends, over `base`: encryption, monitoring (a no-op hook), cache for 10,000 sessions. */
export function readmeStack(base: SessionStore, budgets: Budgets = {}): SessionStore {
  return compose(
    base,
    withEncryption({ keys, primary: 'k1', ...(budgets.plaintextCacheBytes !== undefined ? { plaintextCacheBytes: budgets.plaintextCacheBytes } : {}) }),
    withMonitoring({ onOperation: () => {}, slowThresholdMs: 60_000 }),
    withCache({ maxSessions: 10_000, ...(budgets.maxBytes !== undefined ? { maxBytes: budgets.maxBytes } : {}) }),
  );
}
