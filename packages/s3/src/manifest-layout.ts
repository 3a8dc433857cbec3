import { createHash } from 'node:crypto';
import { SessionError, SessionErrorCode, type SessionInfo } from '@sessionkit/core';
import {
  appendedSince,
  checkExpectedLength,
  conflicts,
  newEpoch,
  retryOnConflict,
  SessionQueue,
  suffixMatches,
  type EncodedChanges,
  type EncodedItem,
  type HistoryVersion,
  type PreparedTransaction,
} from '@sessionkit/core/adapter';
import { mapLimit, type PutCondition } from './bucket-io.js';
import { ORPHAN_GRACE_MS, type LayoutConfig, type Layout } from './layout.js';
import {
  headsPrefix,
  isHashedDir,
  keysForDir,
  randomName,
  sessionIdFromDir,
  sessionKeys,
  type SessionKeys,
} from './keys.js';
import { attemptsOf, isNotFound, isPreconditionFailed, isUnsupported } from './map-error.js';
import { corrupt, decodeRecord, encodeRecord, itemBytes } from './record.js';

/** One immutable segment object listed in a manifest. */
interface SegmentRef {
  /** Object name under the session's `s/` prefix. */
  readonly k: string;
  /** Items in it. */
  readonly n: number;
  /** Stored bytes of its items. */
  readonly b: number;
}

/** A session's state as the manifest holds it. */
interface State {
  readonly createdAt: number;
  /**
   * The run of appends this history belongs to (see readChanges): `''` only
   * in EMPTY and a prune tombstone; a write onto `''` starts a new one, and
   * every write that is not an append gives a new one.
   */
  readonly epoch: string;
  readonly segments: readonly SegmentRef[];
  /** Newest items, kept inline in the manifest. */
  readonly tail: readonly EncodedItem[];
  /** `[hash(operationId), fingerprint]`, oldest first. */
  readonly ops: readonly (readonly [string, string])[];
}

interface LoadedHead {
  readonly etag: string;
  readonly state: State;
  readonly updatedAt: number;
  /** Write tokens of the newest commits, newest first (see TOKEN_HISTORY). */
  readonly tokens: readonly string[];
  readonly id: string | undefined;
  readonly count: number;
}

const EMPTY: State = { createdAt: 0, epoch: '', segments: [], tail: [], ops: [] };

/**
 * Write tokens kept in the manifest: each commit adds its own and keeps the
 * previous ones, so a writer whose SDK retried a manifest PUT that had in
 * fact landed (the retry answers 412) can still recognise its commit after
 * up to this many later commits by others.
 */
const TOKEN_HISTORY = 32;

/** What became of a conditional PUT that answered 412/404. */
type Fate = 'landed' | 'lost' | 'unknown';

/**
 * The manifest changed under us (a segment it listed vanished, or our
 * compare-and-swap lost): re-read and retry within core's one budget.
 */
class Stale extends Error {}

/** Retries exactly the races `Stale` names; a plan's own CONFLICT (a suffix mismatch) is final. */
const retryStale = { isConflict: (error: unknown) => error instanceof Stale } as const;

function countOf(state: State): number {
  let n = state.tail.length;
  for (const s of state.segments) n += s.n;
  return n;
}

const opKey = (operationId: string) => createHash('sha256').update(operationId, 'utf8').digest('base64url').slice(0, 22);

/** What a plan decided: a new state to write (with a result), or nothing to write. */
type PlanOutcome<R> = { readonly state: State; readonly result: R } | { readonly noWrite: true; readonly result: R };

interface PlanIO {
  /** Items of a segment referenced by the state being planned from. */
  load(ref: SegmentRef): Promise<EncodedItem[]>;
  /** Writes a new immutable segment; it is deleted again if the plan does not commit. */
  write(items: readonly EncodedItem[]): Promise<SegmentRef>;
}

/**
 * Conditional-write layout: per session one manifest (`h/{dir}`) holding
 * the newest items inline plus the list of immutable segment objects, and
 * the transaction operation log. Every change is one compare-and-swap of the
 * manifest (`If-Match` its ETag, or `If-None-Match: *` to create it); new
 * segments are written first under unique names, so a lost race leaves only
 * garbage that is deleted at once. See docs/s3.md.
 */
export class ManifestLayout implements Layout {
  /**
   * This handle's writes to one session run one at a time: they would only
   * race each other for the one manifest, spending requests and the shared
   * retry budget on losses. Races with other handles and processes remain,
   * and the compare-and-swap settles them.
   */
  readonly #writes = new SessionQueue();

  constructor(private readonly config: LayoutConfig) {}

  get #io() {
    return this.config.io;
  }

  #keys(sessionId: string): SessionKeys {
    return sessionKeys(this.config.prefix, sessionId);
  }

  #expired(updatedAt: number, now = Date.now()): boolean {
    return this.config.ttl !== undefined && updatedAt + this.config.ttl <= now;
  }

  async #readHead(keys: SessionKeys): Promise<LoadedHead | undefined> {
    const object = await this.#io.get(keys.head);
    if (!object) return undefined;
    const { header, items } = decodeRecord(object.text);
    const { c, e, u, s, o, w, r, id } = header;
    if (header.m !== 'c') throw corrupt('manifest was not written in conditional mode (never mix modes on one prefix)');
    if (typeof c !== 'number' || typeof e !== 'string' || typeof u !== 'number' || !Array.isArray(s) || !Array.isArray(o)) {
      throw corrupt('manifest header is malformed');
    }
    const segments: SegmentRef[] = [];
    for (const ref of s as unknown[]) {
      const r = ref as Partial<SegmentRef> | null;
      if (typeof r?.k !== 'string' || typeof r.n !== 'number' || typeof r.b !== 'number') throw corrupt('segment entry is malformed');
      segments.push({ k: r.k, n: r.n, b: r.b });
    }
    const state: State = { createdAt: c, epoch: e, segments, tail: items, ops: o as [string, string][] };
    return {
      etag: object.etag,
      state,
      updatedAt: u,
      tokens: [w, ...(Array.isArray(r) ? r : [])].filter((t): t is string => typeof t === 'string'),
      id: typeof id === 'string' ? id : undefined,
      count: countOf(state),
    };
  }

  async #loadSegment(keys: SessionKeys, ref: SegmentRef): Promise<EncodedItem[]> {
    const object = await this.#io.get(keys.segments + ref.k);
    if (!object) throw new Stale();
    const { items } = decodeRecord(object.text);
    if (items.length !== ref.n) throw corrupt('segment item count does not match its manifest entry');
    return items;
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads the manifest once and hands it to `read` (undefined when absent or
   * expired) with a loader of its newest items. A segment it lists that is
   * gone means the manifest moved on: re-read and retry within core's
   * budget; gone under the same manifest twice is corrupt.
   */
  async #readSnapshot<R>(
    sessionId: string,
    read: (head: LoadedHead | undefined, newest: (limit: number | undefined) => Promise<EncodedItem[]>) => Promise<R>,
  ): Promise<R> {
    const keys = this.#keys(sessionId);
    let lastEtag: string | undefined;
    return retryOnConflict(
      async () => {
        const loaded = await this.#readHead(keys);
        const head = loaded && !this.#expired(loaded.updatedAt) ? loaded : undefined;
        try {
          return await read(head, (limit) => this.#newest(keys, head!.state, limit));
        } catch (error) {
          if (!(error instanceof Stale) || !loaded) throw error;
          if (loaded.etag === lastEtag) throw corrupt('a segment listed in the manifest is missing');
          lastEtag = loaded.etag;
          throw error;
        }
      },
      { ...retryStale, operation: 's3 read' },
    );
  }

  /** The newest `limit` items of `state` (all without one): the inline tail, plus only the newest segments needed. */
  async #newest(keys: SessionKeys, state: State, limit: number | undefined): Promise<EncodedItem[]> {
    const { tail, segments } = state;
    if (limit !== undefined && tail.length >= limit) return tail.slice(tail.length - limit);
    let first = segments.length;
    let covered = tail.length;
    while (first > 0 && (limit === undefined || covered < limit)) covered += segments[--first]!.n;
    const loaded = await mapLimit(segments.slice(first), this.config.readConcurrency, (ref) => this.#loadSegment(keys, ref));
    const all = loaded.flat().concat(tail);
    return limit === undefined ? all : all.slice(Math.max(0, all.length - limit));
  }

  async getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    return this.#readSnapshot(sessionId, async (head, newest) => (head ? newest(limit) : []));
  }

  /**
   * One manifest snapshot: its epoch and count, and the items appended
   * since `since` (only the newest segments needed) or the whole history.
   */
  async readChanges(sessionId: string, since: HistoryVersion | undefined): Promise<EncodedChanges> {
    return this.#readSnapshot(sessionId, async (head, newest) => {
      const epoch = head?.state.epoch ?? '';
      const length = head?.count ?? 0;
      const version = { epoch, length };
      if (appendedSince(since, epoch, length)) {
        return { version, whole: false, items: head && length > since.length ? await newest(length - since.length) : [] };
      }
      return { version, whole: true, items: head ? await newest(undefined) : [] };
    });
  }

  #info(sessionId: string, head: LoadedHead): SessionInfo | undefined {
    if (head.count === 0 || this.#expired(head.updatedAt)) return undefined;
    return {
      sessionId,
      itemCount: head.count,
      createdAt: new Date(head.state.createdAt),
      updatedAt: new Date(head.updatedAt),
      ...(this.config.ttl !== undefined ? { expiresAt: new Date(head.updatedAt + this.config.ttl) } : {}),
    };
  }

  async info(sessionId: string): Promise<SessionInfo | undefined> {
    const head = await this.#readHead(this.#keys(sessionId));
    return head ? this.#info(sessionId, head) : undefined;
  }

  async *listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    const heads = headsPrefix(this.config.prefix);
    for await (const page of this.#io.list(heads, pageSize)) {
      const infos = await mapLimit(page, this.config.readConcurrency, async (object) => {
        const dir = object.key.slice(heads.length);
        const head = await this.#readHead(keysForDir(this.config.prefix, dir));
        if (!head) return undefined; // cleared since the listing
        const id = isHashedDir(dir) ? head.id : sessionIdFromDir(dir);
        if (id === undefined) throw corrupt('manifest does not name its session');
        return this.#info(id, head);
      });
      for (const info of infos) if (info) yield info;
    }
  }

  // ---------------------------------------------------------------- writes

  /** Writes `state` as the session's manifest under `condition`; returns its ETag. */
  async #writeHead(
    keys: SessionKeys,
    id: string | undefined,
    state: State,
    times: { readonly createdAt: number; readonly updatedAt: number },
    tokens: readonly string[],
    condition: PutCondition,
  ): Promise<string> {
    const kept = tokens.slice(0, TOKEN_HISTORY);
    const header = {
      v: 1,
      m: 'c',
      c: times.createdAt,
      e: state.epoch,
      u: times.updatedAt,
      w: kept[0],
      r: kept.slice(1),
      s: state.segments,
      o: state.ops,
      ...(isHashedDir(keys.dir) && id !== undefined ? { id } : {}),
    };
    return this.#io.put(keys.head, encodeRecord(header, state.tail), condition);
  }

  /**
   * After a conditional manifest PUT answered 412 or 404: did it land? A
   * first attempt that failed certainly did not. When the SDK retried, the
   * first attempt may have landed and the retry then fails on our own
   * commit: the manifest's token history tells. 404 means the manifest was
   * deleted, with anything we wrote, so the write is not there either way.
   */
  async #fate(keys: SessionKeys, token: string, error: unknown): Promise<Fate> {
    if (isNotFound(error) || attemptsOf(error) === 1) return 'lost';
    const now = await this.#readHead(keys);
    if (!now) return 'lost';
    if (now.tokens.includes(token)) return 'landed';
    return 'unknown';
  }

  /**
   * The one write path: read the manifest, let `plan` compute the next state
   * (writing any new segments), compare-and-swap the manifest, retry on a
   * lost race. Replaced segments are deleted after the commit.
   */
  async #mutate<R>(sessionId: string, plan: (state: State, io: PlanIO) => Promise<PlanOutcome<R>>): Promise<R> {
    const keys = this.#keys(sessionId);
    const attempt = async (): Promise<R> => {
      const head = await this.#readHead(keys);
      const now = Date.now();
      const live = head && !this.#expired(head.updatedAt, now) ? head.state : EMPTY;
      const written: string[] = [];
      const cache = new Map<string, EncodedItem[]>();
      const io: PlanIO = {
        load: async (ref) => cache.get(ref.k) ?? this.#loadSegment(keys, ref),
        write: async (items) => {
          const name = `${String(now).padStart(13, '0')}-${randomName()}`;
          written.push(name);
          await this.#putSegment(keys.segments + name, encodeRecord({ v: 1 }, items));
          cache.set(name, [...items]);
          return { k: name, n: items.length, b: itemBytes(items) };
        },
      };
      let outcome: PlanOutcome<R>;
      try {
        outcome = await plan(live, io);
      } catch (error) {
        await this.#sweep(keys, written);
        throw error;
      }
      if ('noWrite' in outcome) {
        await this.#sweep(keys, written);
        return outcome.result;
      }
      // A write onto no record (absent, expired, a prune tombstone) starts a new run of appends.
      const next = outcome.state.epoch === '' ? { ...outcome.state, epoch: newEpoch() } : outcome.state;
      const token = randomName();
      const createdAt = live === EMPTY || countOf(live) === 0 || next.createdAt === 0 ? now : next.createdAt;
      const condition: PutCondition = head ? { ifMatch: head.etag } : { ifNoneMatch: '*' };
      try {
        await this.#writeHead(keys, sessionId, next, { createdAt, updatedAt: now }, [token, ...(head?.tokens ?? [])], condition);
      } catch (error) {
        if (!isPreconditionFailed(error) && !isNotFound(error)) throw error; // outcome unknown: keep segments
        const fate = await this.#fate(keys, token, error);
        if (fate === 'unknown') throw outcomeUnknown(error); // it may be in the history: neither retry nor sweep
        if (fate === 'lost') {
          await this.#sweep(keys, written);
          throw new Stale('lost the manifest compare-and-swap', { cause: error });
        }
      }
      const kept = new Set(next.segments.map((s) => s.k));
      const replaced = (head?.state.segments ?? []).map((s) => s.k).filter((k) => !kept.has(k));
      const unused = written.filter((k) => !kept.has(k));
      await this.#sweep(keys, [...replaced, ...unused]);
      return outcome.result;
    };
    return this.#writes.run(sessionId, () => retryOnConflict(attempt, { ...retryStale, operation: 's3 write' }));
  }

  /**
   * Writes a new segment under its fresh, unique name (`If-None-Match: *`
   * guards against ever replacing an object). Only this writer uses the
   * name, so a 412 means an earlier attempt of this same PUT landed and the
   * SDK retried it: that is success once the stored body is ours.
   */
  async #putSegment(key: string, body: string): Promise<void> {
    try {
      await this.#io.put(key, body, { ifNoneMatch: '*' });
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
      const stored = await this.#io.get(key);
      if (stored?.text !== body) throw error;
    }
  }

  /** Best-effort delete of segment objects no manifest references; leftovers are swept by clear/prune. */
  async #sweep(keys: SessionKeys, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.#io.deleteMany(names.map((n) => keys.segments + n)).catch(() => {});
  }

  /**
   * Loads whole newest segments until they plus the inline tail hold at
   * least `k` items; returns those items (oldest first) and the segments
   * left untouched.
   */
  async #openSuffix(state: State, io: PlanIO, k: number): Promise<{ keep: SegmentRef[]; items: EncodedItem[] }> {
    let first = state.segments.length;
    let covered = state.tail.length;
    while (first > 0 && covered < k) covered += state.segments[--first]!.n;
    const opened = state.segments.slice(first);
    const loaded = await mapLimit(opened, this.config.readConcurrency, (ref) => io.load(ref));
    return { keep: state.segments.slice(0, first), items: loaded.flat().concat(state.tail) };
  }

  /**
   * Puts `items` after `keep` as the new newest part: inline while small,
   * else the older part moves to a new segment (the newest half of
   * `inlineBytes` stays inline, so short tail reads stay one GET). Then
   * merges runs of `mergeFanIn` newest segments of one size class, so the
   * segment count grows with log(history), not history.
   */
  async #settle(keep: readonly SegmentRef[], items: readonly EncodedItem[], io: PlanIO): Promise<{ segments: SegmentRef[]; tail: EncodedItem[] }> {
    const segments = [...keep];
    let tail = [...items];
    const { inlineBytes, mergeFanIn } = this.config;
    if (itemBytes(tail) > inlineBytes) {
      let split = tail.length;
      let bytes = 0;
      while (split > 0) {
        const size = Buffer.byteLength(tail[split - 1]!, 'utf8') + 1;
        if (bytes + size > inlineBytes / 2) break;
        bytes += size;
        split--;
      }
      if (split > 0) {
        segments.push(await io.write(tail.slice(0, split)));
        tail = tail.slice(split);
      }
    }
    const sizeClass = (b: number) => (b < inlineBytes * mergeFanIn ? 0 : Math.floor(Math.log(b / inlineBytes) / Math.log(mergeFanIn)));
    while (segments.length >= mergeFanIn) {
      const run = segments.slice(segments.length - mergeFanIn);
      const cls = sizeClass(run[0]!.b);
      if (!run.every((s) => sizeClass(s.b) === cls)) break;
      const loaded = await mapLimit(run, this.config.readConcurrency, (ref) => io.load(ref));
      segments.splice(segments.length - mergeFanIn, mergeFanIn, await io.write(loaded.flat()));
    }
    return { segments, tail };
  }

  /**
   * With `expectedLength` (conditionalAppend), the count is checked against the manifest this attempt read,
   * before any segment is written: the compare-and-swap then commits only onto that manifest, and an attempt
   * that lost the swap reads the new manifest and checks again, so of racers expecting one count exactly one
   * appends. A mismatch writes nothing (CONFLICT).
   */
  async addItems(sessionId: string, items: EncodedItem[], expectedLength?: number): Promise<void> {
    await this.#mutate(sessionId, async (state, io) => {
      checkExpectedLength({ expectedLength }, countOf(state));
      const next = await this.#settle(state.segments, [...state.tail, ...items], io);
      return { state: { ...state, ...next }, result: undefined };
    });
  }

  async popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    return this.#mutate<R | undefined>(sessionId, async (state, io) => {
      if (countOf(state) === 0) return { noWrite: true, result: undefined };
      const { keep, items } = await this.#openSuffix(state, io, 1);
      // Decoded before anything changes: a corrupt newest item is reported and stays.
      const value = decode(items[items.length - 1]!);
      const next = await this.#settle(keep, items.slice(0, -1), io);
      return { state: { ...state, ...next, epoch: newEpoch() }, result: value };
    });
  }

  async transaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    const key = opKey(tx.operationId);
    const fingerprint = tx.fingerprint.slice(0, 32);
    await this.#mutate(sessionId, async (state, io) => {
      const previous = state.ops.find((entry) => entry[0] === key);
      if (previous) {
        if (previous[1] !== fingerprint) throw conflicts.operationReused();
        return { noWrite: true, result: undefined };
      }
      checkExpectedLength(tx, countOf(state));
      const k = tx.expectedSuffix.length;
      if (k > countOf(state)) throw conflicts.suffixMismatch();
      const { keep, items } = await this.#openSuffix(state, io, k);
      if (!suffixMatches(items.slice(items.length - k), tx.expectedSuffix)) throw conflicts.suffixMismatch();
      const next = await this.#settle(keep, [...items.slice(0, items.length - k), ...tx.replacement], io);
      const ops = [...state.ops, [key, fingerprint] as const];
      return {
        // Replacing a suffix is not an append: a new epoch. An append_items (k = 0) keeps it.
        state: { ...state, ...next, ...(k > 0 ? { epoch: newEpoch() } : {}), ops: ops.slice(Math.max(0, ops.length - this.config.operationLogSize)) },
        result: undefined,
      };
    });
  }

  /**
   * The whole history becomes `items` in one manifest compare-and-swap: a
   * reader sees the old manifest or the new one. The new items go to new
   * segments (or inline); the old segments are garbage once the manifest
   * lands and are swept as after any commit. The operation log stays, and
   * `#mutate` keeps createdAt unless the session had no items.
   */
  async replaceHistory(sessionId: string, items: EncodedItem[]): Promise<void> {
    await this.#mutate(sessionId, async (state, io) => {
      const next = await this.#settle([], items, io);
      return { state: { ...state, ...next, epoch: newEpoch() }, result: undefined };
    });
  }

  /**
   * Deletes the manifest (a writer racing with it fails its If-Match with
   * 404 and starts again from nothing), then its segments, then objects no
   * manifest references that are older than the orphan grace period.
   *
   * clear deletes without a condition on purpose: it removes everything, so
   * a commit that landed after its read is removed too (it is ordered before
   * the clear), and one that lands after the delete starts a new history.
   */
  async #deleteSession(keys: SessionKeys, head: LoadedHead | undefined): Promise<void> {
    await this.#io.delete(keys.head);
    await this.#deleteData(keys, head);
  }

  /** Deletes the segments `head` lists, and unreferenced objects older than the orphan grace period. */
  async #deleteData(keys: SessionKeys, head: LoadedHead | undefined): Promise<void> {
    const referenced = new Set((head?.state.segments ?? []).map((s) => keys.segments + s.k));
    const cutoff = Date.now() - ORPHAN_GRACE_MS;
    const doomed = [...referenced];
    for (const object of await this.#io.listAll(keys.data)) {
      if (!referenced.has(object.key) && object.lastModified < cutoff) doomed.push(object.key);
    }
    await this.#io.deleteMany(doomed);
  }

  async clear(sessionId: string): Promise<void> {
    const keys = this.#keys(sessionId);
    await this.#deleteSession(keys, await this.#readHead(keys));
  }

  /**
   * Prunes one session if its last write is before the cutoff, by
   * compare-and-swap, so a write racing with the prune is never deleted:
   *
   * 1. Replace the manifest just read with an empty one (a tombstone) under
   *    `If-Match` its ETag. A commit that landed since the read makes this
   *    412: the session is live again and is skipped.
   * 2. Delete the tombstone under `If-Match` its ETag. A writer that
   *    committed on top of it in between makes this 412 and keeps its
   *    write; on a service that ignores conditions on DeleteObject this
   *    small window is the one race left (docs/s3.md).
   * 3. Delete the old manifest's segments: nothing references them any more
   *    (every later manifest grows from the empty tombstone).
   *
   * Returns 1 when the session still held items that had not expired by ttl.
   */
  async #pruneOne(keys: SessionKeys, olderThanMs: number): Promise<number> {
    const head = await this.#readHead(keys);
    if (!head || head.updatedAt >= olderThanMs) return 0;
    const live = head.count > 0 && !this.#expired(head.updatedAt);
    const token = randomName();
    let tombstone: string;
    try {
      // The old last-write time stays, so a tombstone left behind is pruned by the same cutoff again.
      tombstone = await this.#writeHead(keys, head.id, EMPTY, { createdAt: head.state.createdAt, updatedAt: head.updatedAt }, [token, ...head.tokens], {
        ifMatch: head.etag,
      });
    } catch (error) {
      if (!isPreconditionFailed(error) && !isNotFound(error)) throw error;
      if ((await this.#fate(keys, token, error)) !== 'landed') return 0; // written or cleared since the read
      const now = await this.#readHead(keys);
      if (!now) return 0;
      tombstone = now.etag;
    }
    try {
      await this.#io.delete(keys.head, tombstone);
    } catch (error) {
      // 412/409: someone wrote on top of the tombstone and keeps the session; 404: already gone.
      // A service that refuses conditional deletes keeps the (empty, unlisted) tombstone.
      if (!isPreconditionFailed(error) && !isNotFound(error) && !isUnsupported(error)) throw error;
    }
    await this.#deleteData(keys, head);
    return live ? 1 : 0;
  }

  async prune(olderThanMs: number): Promise<number> {
    const heads = headsPrefix(this.config.prefix);
    let pruned = 0;
    for await (const page of this.#io.list(heads)) {
      const counts = await mapLimit(page, this.config.readConcurrency, (object) =>
        this.#pruneOne(keysForDir(this.config.prefix, object.key.slice(heads.length)), olderThanMs),
      );
      for (const c of counts) pruned += c;
    }
    return pruned;
  }
}

/** A manifest PUT was retried by the SDK and the session moved on: it may or may not be in the history. */
function outcomeUnknown(cause: unknown): SessionError {
  return new SessionError(
    SessionErrorCode.BackendUnavailable,
    's3 write outcome unknown: the request was retried after its answer was lost, and the session changed meanwhile',
    { cause },
  );
}
