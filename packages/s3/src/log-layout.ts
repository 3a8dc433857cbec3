import { type SessionInfo } from '@sessionkit/core';
import { retryOnConflict, type EncodedItem } from '@sessionkit/core/adapter';
import { mapLimit, type ListedObject } from './bucket-io.js';
import type { LayoutConfig, Layout } from './layout.js';
import {
  BatchNamer,
  batchTime,
  headsPrefix,
  isBatchName,
  isHashedDir,
  keysForDir,
  mergedName,
  positionOf,
  sessionIdFromDir,
  sessionKeys,
  type SessionKeys,
} from './keys.js';
import { corrupt, decodeRecord, encodeRecord } from './record.js';

/** A batch or merged object as read. */
interface Batch {
  readonly key: string;
  readonly name: string;
  /** `[source name, item count]` in order; a plain batch has one source, itself. */
  readonly sources: [string, number][];
  readonly items: EncodedItem[];
}

interface Source {
  readonly name: string;
  readonly items: EncodedItem[];
  readonly provider: Batch;
}

interface Scan {
  /** Sources newer than the boundary, oldest first, already filtered by TTL. */
  readonly sources: Source[];
  /** Every batch object listed, oldest first. */
  readonly listed: ListedObject[];
  /** Batches read, by key. */
  readonly read: Map<string, Batch>;
  /** True when every listed object was read (a full scan). */
  readonly full: boolean;
}

/** Thrown when a listed object vanished (merged or cleared meanwhile): list again, within core's one retry budget. */
class Vanished extends Error {}

/** Size class base for merging in log mode. */
const MERGE_BASE_BYTES = 4096;

/**
 * Layout for services without conditional writes. Every append PUTs its own
 * object under a unique, time-sortable name (`d/{dir}/l/{ms}{counter}-{random}`),
 * so concurrent writers never overwrite each other; an index object
 * (`h/{dir}`) is rewritten on each write for listing and TTL. Readers
 * list the session's objects and read from the newest. Small objects are
 * merged into objects that name every source batch they contain, so a
 * merge racing with anything never loses or duplicates an item. Pop
 * rewrites the newest object in place and is not atomic (docs/s3.md).
 */
export class LogLayout implements Layout {
  readonly #namer = new BatchNamer();
  /** Appends by this handle since its last merge check, per session directory. */
  readonly #sinceCheck = new Map<string, number>();

  constructor(private readonly config: LayoutConfig) {}

  get #io() {
    return this.config.io;
  }

  #keys(sessionId: string): SessionKeys {
    return sessionKeys(this.config.prefix, sessionId);
  }

  async #readBatch(key: string, name: string): Promise<Batch> {
    const object = await this.#io.get(key);
    if (!object) throw new Vanished();
    const { header, items } = decodeRecord(object.text);
    const src = header.src;
    if (header.m !== 'l' || !Array.isArray(src)) throw corrupt('batch header is malformed (never mix modes on one prefix)');
    let total = 0;
    for (const entry of src as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') throw corrupt('batch source is malformed');
      total += entry[1];
    }
    if (total !== items.length) throw corrupt('batch item count does not match its header');
    return { key, name, sources: src as [string, number][], items };
  }

  /**
   * Time of the last pop or append recorded in the index, or 0; `appended`
   * when an append wrote the index (`a: 1`), so no pop has run since it.
   */
  async #indexTime(keys: SessionKeys): Promise<{ t: number; id: string | undefined; exists: boolean; appended: boolean }> {
    const object = await this.#io.get(keys.head);
    if (!object) return { t: 0, id: undefined, exists: false, appended: false };
    const { header } = decodeRecord(object.text);
    if (header.m !== 'l') throw corrupt('index was not written in log mode (never mix modes on one prefix)');
    return {
      t: typeof header.t === 'number' ? header.t : 0,
      id: typeof header.id === 'string' ? header.id : undefined,
      exists: true,
      appended: header.a === 1,
    };
  }

  /**
   * Lists the session and reads objects from the newest until the sources
   * newer than every unread object hold `need` items (all objects when
   * `need` is undefined). Restarts when an object vanished under it.
   */
  #scan(keys: SessionKeys, need: number | undefined, withIndex: boolean): Promise<Scan & { indexTime: number }> {
    return retryOnConflict(
      async () => {
        const [listedRaw, index] = await Promise.all([
          this.#io.listAll(keys.log),
          withIndex || this.config.ttl !== undefined ? this.#indexTime(keys) : Promise.resolve({ t: 0 }),
        ]);
        const listed = listedRaw.filter((o) => isBatchName(o.key.slice(keys.log.length))).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        const names = listed.map((o) => o.key.slice(keys.log.length));
        const winners = new Map<string, Source>();
        const read = new Map<string, Batch>();
        const take = (batch: Batch) => {
          read.set(batch.key, batch);
          let offset = 0;
          for (const [name, n] of batch.sources) {
            if (!winners.has(name)) winners.set(name, { name, items: batch.items.slice(offset, offset + n), provider: batch });
            offset += n;
          }
        };
        let next = listed.length - 1;
        let boundary = '';
        while (next >= 0) {
          // The newest unread objects, skipping plain batches a merged object already supplied.
          const wave: number[] = [];
          // Full reads fetch everything at once; tail reads fetch about as many objects as the items still missing need.
          let width = listed.length;
          if (need !== undefined) {
            width = 1;
            if (read.size > 0) {
              // Estimate items per object from the listed sizes and the bytes per item seen so far.
              let have = 0;
              for (const source of winners.values()) if (source.name > boundary) have += source.items.length;
              let readItems = 0;
              let readBytes = 0;
              for (const batch of read.values()) {
                readItems += batch.items.length;
                readBytes += listed.find((o) => o.key === batch.key)?.size ?? 0;
              }
              const bytesPerItem = readItems > 0 ? Math.max(1, readBytes / readItems) : Infinity;
              let estimate = 0;
              for (let i = next; i >= 0 && estimate < need - have; i--) {
                estimate += listed[i]!.size / bytesPerItem;
                width = next - i + 1;
              }
              width = Math.min(this.config.readConcurrency, Math.max(1, width));
            }
          }
          while (next >= 0 && wave.length < width) {
            const name = names[next]!;
            if (name.includes('~') || !winners.has(name)) wave.push(next);
            next--;
          }
          const batches = await mapLimit(wave, this.config.readConcurrency, (i) => this.#readBatch(listed[i]!.key, names[i]!));
          for (const batch of batches) take(batch); // newest first: the newest provider of a source wins
          boundary = next >= 0 ? positionOf(names[next]!) : '';
          if (need !== undefined) {
            let have = 0;
            for (const source of winners.values()) if (source.name > boundary) have += source.items.length;
            if (have >= need) break;
          }
        }
        const newest = names.length > 0 ? batchTime(positionOf(names[names.length - 1]!)) : 0;
        const sources = this.#live(
          [...winners.values()].filter((s) => s.name > boundary).sort((a, b) => (a.name < b.name ? -1 : 1)),
          Math.max(newest, index.t),
        );
        return { sources, listed, read, full: boundary === '' && next < 0, indexTime: index.t };
      },
      { isConflict: (error) => error instanceof Vanished, operation: 's3 read' },
    );
  }

  /**
   * TTL in log mode: nothing when the last write is older than `ttl`; else
   * only the sources after the newest gap of `ttl` or more between writes
   * (what came before had expired when the next write arrived).
   */
  #live(sources: Source[], lastWrite: number): Source[] {
    const ttl = this.config.ttl;
    if (ttl === undefined || sources.length === 0) return sources;
    if (lastWrite + ttl <= Date.now()) return [];
    let start = 0;
    for (let i = 1; i < sources.length; i++) {
      if (batchTime(sources[i]!.name) - batchTime(sources[i - 1]!.name) >= ttl) start = i;
    }
    return start === 0 ? sources : sources.slice(start);
  }

  async getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    const keys = this.#keys(sessionId);
    const scan = await this.#scan(keys, limit, false);
    const items = scan.sources.flatMap((s) => s.items);
    if (scan.full) await this.#merge(keys, scan).catch(() => {});
    return limit === undefined ? items : items.slice(Math.max(0, items.length - limit));
  }

  /** The index object; `appended` marks an append's rewrite (prune then knows the session holds an item without reading it). */
  #indexBody(keys: SessionKeys, sessionId: string, t = Date.now(), appended = false): string {
    return encodeRecord({ v: 1, m: 'l', t, ...(appended ? { a: 1 } : {}), ...(isHashedDir(keys.dir) ? { id: sessionId } : {}) }, []);
  }

  async addItems(sessionId: string, items: EncodedItem[]): Promise<void> {
    const keys = this.#keys(sessionId);
    const name = this.#namer.next();
    const header = { v: 1, m: 'l', src: [[name, items.length]], ...(isHashedDir(keys.dir) ? { id: sessionId } : {}) };
    await Promise.all([
      this.#io.put(keys.log + name, encodeRecord(header, items)),
      this.#io.put(keys.head, this.#indexBody(keys, sessionId, Date.now(), true)),
    ]);
    const count = (this.#sinceCheck.get(keys.dir) ?? 0) + 1;
    if (count < this.config.mergeFanIn) {
      if (this.#sinceCheck.size > 10_000) this.#sinceCheck.clear();
      this.#sinceCheck.set(keys.dir, count);
      return;
    }
    this.#sinceCheck.delete(keys.dir);
    // Merging is housekeeping: the append already succeeded, and a failed merge loses nothing.
    await this.#io
      .listAll(keys.log)
      .then((listed) => this.#merge(keys, { listed: listed.filter((o) => isBatchName(o.key.slice(keys.log.length))), read: new Map() }))
      .catch(() => {});
  }

  /**
   * Merges the lowest size class holding at least `mergeFanIn` small
   * objects into one object that lists every source batch it holds, then
   * deletes the merged objects. Readers take each source from its newest
   * provider, so a reader between the two steps sees each item once.
   */
  async #merge(keys: SessionKeys, scan: Pick<Scan, 'listed' | 'read'>): Promise<void> {
    // A merge can fill the next size class; cascade a few levels per check.
    let listed = scan.listed;
    for (let round = 0; round < 4; round++) {
      const next = await this.#mergeOnce(keys, listed, scan.read);
      if (!next) return;
      listed = next;
    }
  }

  /** One merge of the lowest full size class; returns the listing as it is afterwards, or undefined when nothing was due. */
  async #mergeOnce(keys: SessionKeys, listed: readonly ListedObject[], read: ReadonlyMap<string, Batch>): Promise<ListedObject[] | undefined> {
    const { mergeFanIn, segmentBytes } = this.config;
    const classes = new Map<number, ListedObject[]>();
    for (const object of listed) {
      if (object.size >= segmentBytes) continue;
      const cls = Math.floor(Math.log(Math.max(1, object.size / MERGE_BASE_BYTES)) / Math.log(mergeFanIn));
      const list = classes.get(cls) ?? [];
      list.push(object);
      classes.set(cls, list);
    }
    const cls = [...classes.keys()].sort((a, b) => a - b).find((c) => classes.get(c)!.length >= mergeFanIn);
    if (cls === undefined) return undefined;
    const group = classes.get(cls)!.slice(0, mergeFanIn * 8);
    const batches = await mapLimit(group, this.config.readConcurrency, async (o): Promise<Batch> => read.get(o.key) ?? this.#readBatch(o.key, o.key.slice(keys.log.length)));
    batches.sort((a, b) => (a.name < b.name ? 1 : -1)); // newest first: newest provider wins
    const sources = new Map<string, EncodedItem[]>();
    for (const batch of batches) {
      let offset = 0;
      for (const [name, n] of batch.sources) {
        if (!sources.has(name)) sources.set(name, batch.items.slice(offset, offset + n));
        offset += n;
      }
    }
    const ordered = [...sources.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const newest = ordered[ordered.length - 1]![0];
    const sessionId = isHashedDir(keys.dir) ? (await this.#indexTime(keys)).id : undefined;
    const header = { v: 1, m: 'l', src: ordered.map(([name, items]) => [name, items.length]), ...(sessionId ? { id: sessionId } : {}) };
    const key = keys.log + mergedName(newest);
    const body = encodeRecord(header, ordered.flatMap(([, items]) => items));
    await this.#io.put(key, body);
    await this.#io.deleteMany(batches.map((b) => b.key));
    const merged = new Set(batches.map((b) => b.key));
    return [...listed.filter((o) => !merged.has(o.key)), { key, size: Buffer.byteLength(body, 'utf8'), lastModified: Date.now() }];
  }

  async popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    const keys = this.#keys(sessionId);
    const scan = await this.#scan(keys, 1, false);
    const source = scan.sources.findLast((s) => s.items.length > 0);
    if (!source) return undefined;
    // Decoded before anything changes: a corrupt newest item is reported and stays.
    const value = decode(source.items[source.items.length - 1]!);
    const batch = source.provider;
    let offset = 0;
    const sources: [string, number][] = [];
    let removeAt = -1;
    for (const [name, n] of batch.sources) {
      if (name === source.name) {
        removeAt = offset + n - 1;
        sources.push([name, n - 1]);
      } else sources.push([name, n]);
      offset += n;
    }
    const items = batch.items.filter((_, i) => i !== removeAt);
    if (items.length === 0 && !batch.name.includes('~')) {
      await this.#io.delete(batch.key);
    } else {
      // A merged object keeps the emptied source listed, so an older copy of it cannot resurface.
      const id = isHashedDir(keys.dir) ? { id: sessionId } : {};
      await this.#io.put(batch.key, encodeRecord({ v: 1, m: 'l', src: sources, ...id }, items));
    }
    await this.#io.put(keys.head, this.#indexBody(keys, sessionId));
    return value;
  }

  async clear(sessionId: string): Promise<void> {
    const keys = this.#keys(sessionId);
    await this.#deleteListed(keys, sessionId, await this.#io.listAll(keys.data));
  }

  /**
   * Deletes the index and exactly the objects listed, never a re-listing:
   * an append that landed after the listing is ordered after this clear or
   * prune and survives. Its index rewrite may have been deleted with ours,
   * so a second listing puts the index back when batches remain (else the
   * session would be readable but never listed or pruned). Without
   * conditional writes a few races stay open: docs/s3.md.
   */
  async #deleteListed(keys: SessionKeys, sessionId: string | undefined, listed: readonly ListedObject[]): Promise<void> {
    await this.#io.deleteMany([keys.head, ...listed.map((o) => o.key)]);
    let newest = 0;
    for (const o of await this.#io.listAll(keys.log)) {
      const name = o.key.slice(keys.log.length);
      if (isBatchName(name)) newest = Math.max(newest, batchTime(positionOf(name)));
    }
    if (newest === 0) return;
    if (sessionId === undefined && isHashedDir(keys.dir)) return; // cannot name it; the next write does
    await this.#io.put(keys.head, this.#indexBody(keys, sessionId ?? '', newest));
  }

  async #infoOf(sessionId: string | undefined, keys: SessionKeys): Promise<SessionInfo | undefined> {
    const scan = await this.#scan(keys, undefined, true);
    const count = scan.sources.reduce((n, s) => n + s.items.length, 0);
    if (count === 0) return undefined;
    const id = sessionId ?? (await this.#indexTime(keys)).id;
    if (id === undefined) throw corrupt('index does not name its session');
    const first = scan.sources.find((s) => s.items.length > 0)!;
    const last = scan.sources[scan.sources.length - 1]!;
    const updatedAt = Math.max(batchTime(last.name), scan.indexTime);
    return {
      sessionId: id,
      itemCount: count,
      createdAt: new Date(batchTime(first.name)),
      updatedAt: new Date(updatedAt),
      ...(this.config.ttl !== undefined ? { expiresAt: new Date(updatedAt + this.config.ttl) } : {}),
    };
  }

  info(sessionId: string): Promise<SessionInfo | undefined> {
    return this.#infoOf(sessionId, this.#keys(sessionId));
  }

  async *listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    const heads = headsPrefix(this.config.prefix);
    for await (const page of this.#io.list(heads, pageSize)) {
      const infos = await mapLimit(page, this.config.readConcurrency, (object) => {
        const dir = object.key.slice(heads.length);
        return this.#infoOf(sessionIdFromDir(dir), keysForDir(this.config.prefix, dir));
      });
      for (const info of infos) if (info) yield info;
    }
  }

  /**
   * Whether a session with batches and a live last write holds an item, as
   * `getSessionInfo` would judge it. A plain batch always holds items (pop
   * deletes one it empties) and, when it is the newest object, its source
   * is the newest, so live; an index an append wrote means no pop ran
   * since, and only pops remove items. Else (a merged object is newest and
   * a pop may have emptied it) the newest objects are read until an item is
   * found: a tail read for one item sees an item exactly when a full read does.
   */
  async #holdsItems(keys: SessionKeys, newest: string, appended: boolean): Promise<boolean> {
    if (!newest.includes('~') || appended) return true;
    const scan = await this.#scan(keys, 1, false);
    return scan.sources.some((s) => s.items.length > 0);
  }

  async prune(olderThanMs: number): Promise<number> {
    const heads = headsPrefix(this.config.prefix);
    let pruned = 0;
    for await (const page of this.#io.list(heads)) {
      const counts = await mapLimit(page, this.config.readConcurrency, async (object) => {
        const dir = object.key.slice(heads.length);
        const keys = keysForDir(this.config.prefix, dir);
        const [index, listed] = await Promise.all([this.#indexTime(keys), this.#io.listAll(keys.data)]);
        let last = index.t;
        let newest = '';
        for (const o of listed) {
          if (!o.key.startsWith(keys.log)) continue;
          const name = o.key.slice(keys.log.length);
          if (!isBatchName(name)) continue;
          if (name > newest) newest = name;
          last = Math.max(last, batchTime(positionOf(name)));
        }
        if (last >= olderThanMs) return 0;
        const expired = this.config.ttl !== undefined && last + this.config.ttl <= Date.now();
        const counted = newest !== '' && !expired && (await this.#holdsItems(keys, newest, index.appended));
        await this.#deleteListed(keys, index.id ?? sessionIdFromDir(dir), listed);
        return counted ? 1 : 0;
      });
      for (const c of counts) pruned += c;
    }
    return pruned;
  }
}
