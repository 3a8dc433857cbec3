/**
 * The store's document shapes and the pure helpers around them: collection
 * names, index specs, filters that keep session ids as data, projections,
 * the shape check and the size check. No I/O here, so all of it is
 * unit-tested without a server.
 */
import { randomUUID } from 'node:crypto';
import { SessionError, SessionErrorCode, type SessionInfo } from '@sessionkit/core';
import { type EncodedItem } from '@sessionkit/core/adapter';
import type { IndexDescription, ObjectId, UpdateFilter } from 'mongodb';
import { runsLength, seqRuns, type SeqRun } from './runs.js';

/** One `<prefix>sessions` document: the session's committed state. */
export interface SessionDocument {
  /** The session id, stored as a plain string value. */
  _id: string;
  /** Incarnation id: item documents of an earlier (cleared or expired) incarnation never mix with this one. */
  gen: string;
  /** Version, incremented by every commit: the compare-and-swap token. */
  v: number;
  /** Next unreserved sequence number within this incarnation. */
  next: number;
  /** The history, oldest first, as runs of item sequence numbers. */
  runs: SeqRun[];
  /** Number of items in the history (the sum of the runs' lengths). */
  count: number;
  createdAt: Date;
  updatedAt: Date;
  /** Last write + ttl; the TTL index deletes the document after it. Absent without ttl. */
  expiresAt?: Date;
  /** Lower bound of every item document's `expiresAt` (items outlive their session, never the reverse). */
  itemsExpireAt?: Date;
  /**
   * Transaction operation log, oldest first, at most `operationLogSize`
   * entries (appended with `$push`/`$each`/`$slice`). Never read whole: a
   * transaction projects only the entry of its own operation id, other reads
   * leave it out, so in memory this holds at most that one entry.
   */
  ops: OperationRecord[];
}

export interface OperationRecord {
  /** The operation id (a value, never a key). */
  id: string;
  /** The transaction's fingerprint (`PreparedTransaction.fingerprint`). */
  fp: string;
}

/** One `<prefix>items` document: one item, immutable once written. */
export interface ItemDocument {
  _id?: ObjectId;
  sessionId: string;
  gen: string;
  seq: number;
  /**
   * The encoded item: the core codec's JSON text, stored as a BSON string, so
   * `$`-prefixed or dotted keys inside items are characters, never field
   * names or operators.
   */
  item: EncodedItem;
  /** Set when the store has a ttl; see `itemsExpireAt`. */
  expiresAt?: Date;
}

export interface CollectionNames {
  readonly sessions: string;
  readonly items: string;
}

export function collectionNames(prefix: string): CollectionNames {
  return { sessions: `${prefix}sessions`, items: `${prefix}items` };
}

function invalid(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/** MongoDB's database name rules (any OS): 1–63 bytes, none of `/\. "$*<>:|?` or NUL. */
export function assertDatabaseName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw invalid('database must be a non-empty string');
  if (Buffer.byteLength(name, 'utf8') > 63) throw invalid('database name must be at most 63 bytes');
  if (/[/\\. "$*<>:|?\0]/.test(name)) throw invalid('database name contains a character MongoDB does not allow');
}

/** Collection names must not contain `$` or NUL, nor start with `system.`; the prefix is checked as their start. */
export function assertCollectionPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') throw invalid('collectionPrefix must be a string');
  if (/[$\0]/.test(prefix)) throw invalid('collectionPrefix must not contain "$" or NUL');
  if (prefix.startsWith('system.')) throw invalid('collectionPrefix must not start with "system."');
  if (Buffer.byteLength(prefix, 'utf8') > 100) throw invalid('collectionPrefix must be at most 100 bytes');
}

// Defence in depth: the base class has already refused non-strings, but a
// filter is only ever built from a string, wrapped in $eq, so no value can be
// read as an operator ({ $gt: '' }) or a JavaScript predicate ($where).
function asData(sessionId: unknown): { $eq: string } {
  if (typeof sessionId !== 'string') throw invalid('session id must be a string');
  return { $eq: sessionId };
}

/** The filter selecting one session document. */
export function sessionFilter(sessionId: string): { _id: { $eq: string } } {
  return { _id: asData(sessionId) };
}

// Beyond this many runs one bounding range is cheaper to send than an $or;
// the few unreferenced documents it may also return are filtered out.
const MAX_OR_RUNS = 32;

/**
 * The filter selecting the item documents of `seqs` in one incarnation: an
 * index range (or a few) on { sessionId, gen, seq }. A read may get a few
 * more documents than asked (callers keep only the wanted seqs); a delete
 * gets exactly those.
 */
export function itemsFilter(
  sessionId: string,
  gen: string,
  seqs: readonly number[],
  mode: 'read' | 'delete' = 'read',
): Record<string, unknown> {
  const base = { sessionId: asData(sessionId), gen: { $eq: gen } };
  const runs = seqRuns(seqs);
  if (runs.length === 0) return { ...base, seq: { $in: [] } };
  // A delete must name exactly its documents: a bounding range could take referenced ones.
  if (runs.length > MAX_OR_RUNS && mode === 'delete') return { ...base, seq: { $in: [...seqs] } };
  if (runs.length === 1 || runs.length > MAX_OR_RUNS) {
    return { ...base, seq: { $gte: runs[0]![0], $lt: runs[runs.length - 1]![1] } };
  }
  return { ...base, $or: runs.map(([start, end]) => ({ seq: { $gte: start, $lt: end } })) };
}

/** Every item document of one session id, of any incarnation (clear and prune inside a transaction). */
export function sessionItemsFilter(sessionId: string): Record<string, unknown> {
  return { sessionId: asData(sessionId) };
}

/** Item documents of one incarnation at sequence numbers `[from, to]` (the orphan sweep). */
export function seqRangeFilter(sessionId: string, gen: string, from: number, to: number): Record<string, unknown> {
  return { sessionId: asData(sessionId), gen: { $eq: gen }, seq: { $gte: from, $lte: to } };
}

/** Every item document of one incarnation (clear, prune, expiry clean-up, ttl refresh). */
export function generationFilter(sessionId: string, gen: string): Record<string, unknown> {
  return { sessionId: asData(sessionId), gen: { $eq: gen } };
}

/** The item document for one encoded item (the item stays one string field). */
export function itemDocument(
  sessionId: string,
  gen: string,
  seq: number,
  item: EncodedItem,
  expiresAt: Date | undefined,
  id?: ObjectId,
): ItemDocument {
  return {
    ...(id ? { _id: id } : {}),
    sessionId,
    gen,
    seq,
    item,
    ...(expiresAt ? { expiresAt } : {}),
  };
}

/** Indexes of `<prefix>sessions`. */
export const SESSION_INDEXES: IndexDescription[] = [
  // expireAfterSeconds 0: each document expires at its own expiresAt (absent = never).
  { key: { expiresAt: 1 }, name: 'expiresAt_ttl', expireAfterSeconds: 0 },
  // prune's range scan.
  { key: { updatedAt: 1 }, name: 'updatedAt_1' },
];

/** Indexes of `<prefix>items`. */
export const ITEM_INDEXES: IndexDescription[] = [
  // Led by the session id (a good shard key prefix); tail reads are one range of it.
  { key: { sessionId: 1, gen: 1, seq: 1 }, name: 'sessionId_gen_seq', unique: true },
  { key: { expiresAt: 1 }, name: 'expiresAt_ttl', expireAfterSeconds: 0 },
];

/** What a session-document read needs. */
export interface SessionProjectionOptions {
  /** Also the operation log entry of this operation id (when there is one); no other entry is sent. */
  readonly operationId?: string;
  /**
   * Only the newest `tail` runs (`$slice`): they cover the newest `tail`
   * items, as each holds at least one. At most {@link MAX_TAIL_SLICE}.
   */
  readonly tail?: number;
}

/** Largest `$slice` sent (a BSON int32); a larger limit reads every run, which is then about as cheap. */
export const MAX_TAIL_SLICE = 2 ** 31 - 1;

/**
 * The projection of a session-document read: an inclusion projection of the
 * fields the store uses, so the operation log (up to `operationLogSize`
 * entries) never crosses the network in full and a tail read gets only the
 * runs it can use.
 */
export function sessionProjection(options: SessionProjectionOptions = {}): Record<string, unknown> {
  const { operationId, tail } = options;
  if (operationId !== undefined && typeof operationId !== 'string') throw invalid('operation id must be a string');
  if (tail !== undefined && !(Number.isSafeInteger(tail) && tail > 0 && tail <= MAX_TAIL_SLICE)) {
    throw invalid('tail must be a positive integer of at most MAX_TAIL_SLICE');
  }
  return {
    gen: 1,
    v: 1,
    next: 1,
    count: 1,
    createdAt: 1,
    updatedAt: 1,
    expiresAt: 1,
    itemsExpireAt: 1,
    runs: tail === undefined ? 1 : { $slice: -tail },
    // The id is data under $eq inside the $elemMatch condition, like every session id.
    ...(operationId !== undefined ? { ops: { $elemMatch: { id: { $eq: operationId } } } } : {}),
  };
}

/** A fresh incarnation id. */
export function newGeneration(): string {
  return randomUUID();
}

/** The empty session document of a new incarnation (written before any of its item documents). */
export function freshSession(sessionId: string, now: number): SessionDocument {
  return {
    _id: sessionId,
    gen: newGeneration(),
    v: 0,
    next: 0,
    runs: [],
    count: 0,
    createdAt: new Date(now),
    updatedAt: new Date(now),
    ops: [],
  };
}

/** The expiry fields a write sets or removes. */
export interface Expiry {
  readonly set: Partial<Pick<SessionDocument, 'expiresAt' | 'itemsExpireAt'>>;
  readonly unset: readonly ('expiresAt' | 'itemsExpireAt')[];
  /** `expiresAt` for item documents written now. */
  readonly items: Date | undefined;
}

/** What a commit makes of the session document. */
export interface CommitChange {
  /** The history after the write. */
  readonly runs: SeqRun[];
  readonly count: number;
  /** `next` after the write. */
  readonly next: number;
  /** A transaction's log entry, pushed with the commit. */
  readonly op?: OperationRecord;
}

/**
 * The commit's update, applied by one compare-and-swap on `{ _id, v, gen }`:
 * the new runs and count, `v + 1`, dates and expiry, a transaction's log
 * entry pushed and the log trimmed, in one atomic update. `createdAt` starts
 * afresh only when the session held no items (its first write since it was
 * created or emptied); the log is never touched otherwise.
 */
export function commitUpdate(
  live: SessionDocument,
  change: CommitChange,
  expiry: Expiry,
  now: number,
  operationLogSize: number,
): UpdateFilter<SessionDocument> {
  const unset = Object.fromEntries(expiry.unset.map((field) => [field, '' as const]));
  return {
    $set: {
      v: live.v + 1,
      runs: change.runs,
      count: change.count,
      createdAt: live.count === 0 ? new Date(now) : live.createdAt,
      updatedAt: new Date(now),
      ...expiry.set,
    },
    // $max: a writer that skipped taken sequence numbers may have raised it meanwhile.
    $max: { next: change.next },
    ...(change.op ? { $push: { ops: { $each: [change.op], $slice: -operationLogSize } } } : {}),
    ...(expiry.unset.length > 0 ? { $unset: unset } : {}),
  };
}

/** The compare-and-swap filter of a commit: the session document exactly as the writer read it. */
export function versionFilter(sessionId: string, doc: Pick<SessionDocument, 'v' | 'gen'>): Record<string, unknown> {
  return { ...sessionFilter(sessionId), v: { $eq: doc.v }, gen: { $eq: doc.gen } };
}

/**
 * Checks a stored session document's shape; anything else is CORRUPT_DATA
 * (reported, never repaired or deleted by a read).
 */
export function assertSessionDocument(
  doc: unknown,
  fields: 'full' | 'meta' = 'full',
  tail?: number,
): asserts doc is SessionDocument {
  const d = doc as Partial<SessionDocument> | null;
  const metaOk =
    d !== null &&
    typeof d === 'object' &&
    typeof d._id === 'string' &&
    typeof d.gen === 'string' &&
    Number.isSafeInteger(d.v) &&
    Number.isSafeInteger(d.next) &&
    Number.isSafeInteger(d.count) &&
    d.count! >= 0 &&
    d.createdAt instanceof Date &&
    d.updatedAt instanceof Date &&
    (d.expiresAt === undefined || d.expiresAt instanceof Date) &&
    (d.itemsExpireAt === undefined || d.itemsExpireAt instanceof Date);
  const ok =
    metaOk &&
    (fields === 'meta' ||
      (Array.isArray(d.ops) &&
        Array.isArray(d.runs) &&
        d.runs.every(
          (s) =>
            Array.isArray(s) && s.length === 2 && Number.isSafeInteger(s[0]) && Number.isSafeInteger(s[1]) && s[0]! < s[1]!,
        ) &&
        // A tail read ($slice) may get fewer runs than the history has; it then holds at most `count` items.
        (tail !== undefined && d.runs.length >= tail ? runsLength(d.runs) <= d.count! : runsLength(d.runs) === d.count)));
  if (!ok) throw new SessionError(SessionErrorCode.CorruptData, 'session document is malformed');
}

/** True when the session's expiry has passed (expired sessions read as empty before the TTL monitor deletes them). */
export function isExpired(doc: Pick<SessionDocument, 'expiresAt'>, nowMs: number): boolean {
  return doc.expiresAt !== undefined && doc.expiresAt.getTime() <= nowMs;
}

/** True for a session that holds items and has not expired: what `prune` counts (it deletes expired ones too). */
export function isLive(doc: Pick<SessionDocument, 'count' | 'expiresAt'>, nowMs: number): boolean {
  return typeof doc.count === 'number' && doc.count > 0 && !isExpired(doc, nowMs);
}

/** The public view of a live, non-empty session document. */
export function toSessionInfo(doc: SessionDocument): SessionInfo {
  return {
    sessionId: doc._id,
    itemCount: doc.count,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    ...(doc.expiresAt ? { expiresAt: doc.expiresAt } : {}),
  };
}

/** MongoDB's documented default when `hello` does not say: 16 MiB. */
export const DEFAULT_MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;

// Field names, type bytes, the ObjectId, gen, seq, dates and headers of an
// item document take well under 200 bytes; the rest is a safety margin.
const ITEM_DOCUMENT_OVERHEAD = 1024;

/** Largest encoded item (UTF-8 bytes) an item document can hold for this session id. */
export function maxItemBytes(sessionId: string, maxBsonObjectSize = DEFAULT_MAX_BSON_OBJECT_SIZE): number {
  return maxBsonObjectSize - ITEM_DOCUMENT_OVERHEAD - Buffer.byteLength(sessionId, 'utf8');
}

/** Refuses (TOO_LARGE, before anything is written) any item an item document cannot hold. */
export function assertItemsFit(sessionId: string, items: readonly EncodedItem[], maxBsonObjectSize?: number): void {
  const limit = maxItemBytes(sessionId, maxBsonObjectSize);
  for (let i = 0; i < items.length; i++) {
    // Byte length can exceed limit only if the string length could: skip the count for short items.
    const item = items[i]!;
    if (item.length * 3 > limit && Buffer.byteLength(item, 'utf8') > limit) {
      throw new SessionError(
        SessionErrorCode.TooLarge,
        `items[${i}] is larger than a MongoDB document can hold (${limit} bytes encoded)`,
      );
    }
  }
}
