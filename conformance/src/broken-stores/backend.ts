// The in-memory "backend" the flawed stores share between handles.
import type { EncodedItem } from '@sessionkit/core/adapter';
import type { BrokenStoreFlaw } from './flaws.js';

/** One session as the in-memory backend keeps it. */
export interface Entry {
  items: EncodedItem[];
  created: number;
  updated: number;
  /** `soft-clear`: cleared, but the items are still there. */
  hidden?: boolean;
  /** `pop-forgets-count`: items ever appended (pops do not lower it). */
  appended?: number;
  /** readChanges: renewed by every write that is not an append. */
  epoch: string;
}

/** What a harness keeps between handles: the "backend". */
export interface Backend {
  sessions: Map<string, Entry>;
  /** Per-session operation logs: operation id → fingerprint. */
  ops: Map<string, Map<string, string>>;
}

/** A moment's wait: the window a racy read-modify-write leaves open. */
export const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/** Where a flawed store keeps `sessionId` (the harness injects corrupt items there too). */
export function keyFor(flaw: BrokenStoreFlaw | undefined, sessionId: string): string {
  if (flaw === 'ignores-session-id') return 'everyone';
  if (flaw === 'prefix-collision') return sessionId.replace(/[^A-Za-z0-9]/g, '_');
  if (flaw === 'truncates-long-ids') return sessionId.slice(0, 255);
  return sessionId;
}
