import { randomUUID } from 'node:crypto';
import type { EncodedItem } from './codec.js';
import { SessionError, SessionErrorCode } from './errors.js';
import type { HistoryVersion } from './types.js';

/** Longest epoch a `since` may carry (built-in stores make 36-character ones). */
export const MAX_EPOCH_LENGTH = 128;

/** What a store's `_readChanges` returns: the items still encoded. */
export interface EncodedChanges {
  readonly version: HistoryVersion;
  readonly whole: boolean;
  readonly items: EncodedItem[];
}

/**
 * A fresh epoch for a session whose history changed other than by an
 * append, or that is created: random, so no epoch is ever issued twice, by
 * this process or any other writing the same backend.
 */
export function newEpoch(): string {
  return randomUUID();
}

/** Checks `readChanges`' `since`: absent, or `{ epoch: string, length: non-negative integer }`. */
export function normalizeSince(since: unknown): HistoryVersion | undefined {
  if (since === undefined) return undefined;
  const { epoch, length } = (typeof since === 'object' && since !== null ? since : {}) as { epoch?: unknown; length?: unknown };
  if (typeof epoch !== 'string' || epoch.length > MAX_EPOCH_LENGTH || typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new SessionError(SessionErrorCode.InvalidArgument, 'since must be a version from readChanges: { epoch: string, length: non-negative integer }');
  }
  return { epoch, length };
}

/**
 * Whether a session now at (`epoch`, `length`) is what it was at `since`
 * plus appended items: the same epoch, and no shorter. The items to send
 * are then the newest `length - since.length`.
 */
export function appendedSince(since: HistoryVersion | undefined, epoch: string, length: number): since is HistoryVersion {
  return since !== undefined && since.epoch === epoch && since.length <= length;
}
