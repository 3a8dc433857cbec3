import { withFallback, type SessionStore } from '@sessionkit/core';
// Relative import: core cannot depend on @sessionkit/conformance; vitest maps it to the same source.
import { withFaults } from '../../../conformance/src/index.js';
import { describeStackConformance } from './analytics-fallback-compaction-harness.js';

// Degraded state: the primary (a real store behind the fault-injection store) fails every call with
// BACKEND_UNAVAILABLE from the start, so the first call degrades the stack and every read and write is
// served by the secondaries per the documented policy (docs/decorators/fallback.md).
const primaryDown = (open: (role: string) => SessionStore) => withFaults(open('primary'), { rules: [{ fail: '*' }] });

const PRUNE_REFUSED =
  'withFallback refuses prune with BACKEND_UNAVAILABLE while degraded, by design: pruning only the secondaries would make the replicas disagree about which sessions exist, and replaying it on the primary later would judge sessions by last-write times that lack the outage’s writes — docs/decorators/fallback.md#conformance';
const waivers = { 'prune.older-than': PRUNE_REFUSED, 'prune.ttl-expired': PRUNE_REFUSED };

describeStackConformance(
  'withFallback (two secondaries, primary down)',
  (open) => withFallback({ secondaries: [open('secondary-1'), open('secondary-2')], resyncInterval: 0 })(primaryDown(open)),
  // Reads are served by the first in-sync secondary, so corrupt data goes there.
  { corruptRole: 'secondary-1', waivers },
);
describeStackConformance(
  'withFallback (one secondary, primary down)',
  (open) => withFallback({ secondaries: [open('secondary')], resyncInterval: 0 })(primaryDown(open)),
  { corruptRole: 'secondary', waivers },
);
