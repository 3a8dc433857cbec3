import type { SessionInfo } from '@sessionkit/core';
import type { EncodedChanges, EncodedItem, HistoryVersion, PreparedTransaction } from '@sessionkit/core/adapter';
import type { BucketIO } from './bucket-io.js';

/** Settings both layouts share, already validated. */
export interface LayoutConfig {
  readonly io: BucketIO;
  readonly prefix: string;
  readonly ttl: number | undefined;
  readonly operationLogSize: number;
  readonly inlineBytes: number;
  readonly mergeFanIn: number;
  readonly segmentBytes: number;
  readonly readConcurrency: number;
}

/**
 * One storage layout: `ManifestLayout` (conditional writes) or `LogLayout`
 * (no conditional writes). The store validates, encodes and maps errors;
 * a layout only moves encoded items in and out of S3.
 */
export interface Layout {
  getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]>;
  /** `expectedLength` only reaches the manifest layout (the store declares conditionalAppend only with it). */
  addItems(sessionId: string, items: EncodedItem[], expectedLength?: number): Promise<void>;
  popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined>;
  clear(sessionId: string): Promise<void>;
  transaction?(sessionId: string, tx: PreparedTransaction): Promise<void>;
  /** Only where it is one atomic step (the manifest layout). */
  replaceHistory?(sessionId: string, items: EncodedItem[]): Promise<void>;
  /** Only where the session is one snapshot to read (the manifest layout). */
  readChanges?(sessionId: string, since: HistoryVersion | undefined): Promise<EncodedChanges>;
  info(sessionId: string): Promise<SessionInfo | undefined>;
  listSessions(pageSize: number): AsyncIterable<SessionInfo>;
  prune(olderThanMs: number): Promise<number>;
}

/** Objects not referenced by a head are only swept once this old: a writer may still be about to reference them. */
export const ORPHAN_GRACE_MS = 15 * 60_000;
