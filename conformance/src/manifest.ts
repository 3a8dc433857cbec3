import type { SessionStore, StoreCapabilities } from '@sessionkit/core';

type CapabilityName = keyof StoreCapabilities;

/**
 * Every capability a store's manifest can declare, in the order the report
 * lists them: the name the report gives it (when not its own) and the method
 * that must back it (none for a capability that is a promise, not a method).
 * The one list of capability names: typed against StoreCapabilities, so a
 * capability added to core and not here (or named here and not in core)
 * fails the typecheck.
 */
const CAPABILITIES = {
  transactions: { method: 'applyHistoryTransaction' },
  transactionPreconditions: { method: 'applyHistoryTransaction' },
  conditionalAppend: {},
  readChanges: { method: 'readChanges' },
  replaceHistory: { method: 'replaceHistory' },
  historyMutations: { method: 'applyHistoryMutations' },
  listSessions: { reportAs: 'listing', method: 'listSessions' },
  sessionInfo: { method: 'getSessionInfo' },
  prune: { method: 'prune' },
  ttl: {},
  persistent: {},
  atomicReadModifyWrite: {},
} satisfies { readonly [K in CapabilityName]-?: { readonly reportAs?: string; readonly method?: keyof SessionStore } };

/** Every capability name, the optional ones (`conditionalAppend`, `readChanges`) included. */
export const CAPABILITY_NAMES = Object.keys(CAPABILITIES) as readonly CapabilityName[];

/** How a value reads in a message: strings quoted, with the type of anything that is not a boolean. */
function shown(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} (a string)`;
  if (value === null) return 'null';
  if (typeof value === 'object') return `an ${Array.isArray(value) ? 'array' : 'object'}`;
  return `${String(value)} (a ${typeof value})`;
}

/**
 * The store's manifest as the kit reads it: every capability `true` exactly
 * when declared `true` (one rule for skips, `extended` and the report), and
 * what is wrong with it: a value that is neither a boolean nor left out, as
 * report warnings (`problems`) and briefly (`invalid`: `ttl is 1 (a number)`).
 */
export function readManifest(store: SessionStore): { capabilities: StoreCapabilities; problems: string[]; invalid: string[] } {
  const declared = (store as { capabilities?: unknown }).capabilities;
  if (declared === null || typeof declared !== 'object') {
    const none = Object.fromEntries(CAPABILITY_NAMES.map((name) => [name, false])) as unknown as StoreCapabilities;
    return {
      capabilities: none,
      problems: [`the store's capabilities are ${shown(declared)}, not an object of booleans: the kit treats it as declaring none`],
      invalid: [`capabilities is ${shown(declared)}`],
    };
  }
  const problems: string[] = [];
  const invalid: string[] = [];
  const capabilities: Record<string, boolean> = {};
  for (const name of CAPABILITY_NAMES) {
    const value = (declared as Record<string, unknown>)[name];
    if (value !== undefined && typeof value !== 'boolean') {
      problems.push(`the store declares ${name} as ${shown(value)}, not true or false: the kit treats it as not declared`);
      invalid.push(`${name} is ${shown(value)}`);
    }
    capabilities[name] = value === true;
  }
  return { capabilities: capabilities as unknown as StoreCapabilities, problems, invalid };
}

/**
 * What optional parts a store has, from its manifest and its methods: a
 * capability counts when it is declared `true` and, where it is a method,
 * the method exists. A declared capability without its method is a warning.
 */
export function detectExtensions(store: SessionStore): { extended: string[]; warnings: string[] } {
  const extended: string[] = [];
  const warnings: string[] = [];
  for (const [capability, { reportAs, method }] of Object.entries(CAPABILITIES) as [CapabilityName, { reportAs?: string; method?: keyof SessionStore }][]) {
    if (store.capabilities?.[capability] !== true) continue;
    if (method !== undefined && typeof store[method] !== 'function') {
      warnings.push(`the store declares ${capability} but has no ${method}() method: its tests will fail`);
      continue;
    }
    extended.push(reportAs ?? capability);
  }
  return { extended, warnings };
}
