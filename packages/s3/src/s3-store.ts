import { S3Client } from '@aws-sdk/client-s3';
import {
  SessionError,
  SessionErrorCode,
  type AddItemsOptions,
  type CallOptions,
  type SessionInfo,
  type SessionItem,
  type StoreCapabilities,
} from '@sessionkit/core';
import {
  AbstractSessionStore,
  assertPositiveInteger,
  isPlainObject,
  normalizeMilliseconds,
  normalizeTtl,
  OPERATION_LOG_RETENTION,
  type EncodedChanges,
  type EncodedItem,
  type HistoryVersion,
  type PreparedTransaction,
} from '@sessionkit/core/adapter';
import { BucketIO } from './bucket-io.js';
import type { Layout } from './layout.js';
import { LogLayout } from './log-layout.js';
import { ManifestLayout } from './manifest-layout.js';
import { mapS3Error } from './map-error.js';
import type { S3StoreOptions } from './options.js';

/** Default `prefix`. */
export const DEFAULT_PREFIX = 'sessionkit/';
/** Default `inlineBytes`. */
export const DEFAULT_INLINE_BYTES = 16 * 1024;
/** Default `segmentBytes` (log mode). */
export const DEFAULT_SEGMENT_BYTES = 1024 * 1024;
/** Default `requestTimeoutMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Longest accepted `prefix`, in UTF-8 bytes (S3 keys are at most 1024). */
export const MAX_PREFIX_BYTES = 256;

function invalidOptions(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  assertPositiveInteger(v, name);
  return v;
}

/**
 * A session store on Amazon S3 or any S3-compatible service (MinIO, R2,
 * s3rver) through @aws-sdk/client-s3. With `conditionalWrites` (default)
 * each session is a manifest updated by compare-and-swap plus immutable
 * segment objects; without, each append is its own object. See docs/s3.md
 * for the layouts, guarantees per mode and request counts.
 */
export class S3Store<TItem = SessionItem> extends AbstractSessionStore<TItem> {
  readonly capabilities: StoreCapabilities;
  /** The bucket the store uses. */
  readonly bucket: string;
  /** The key prefix the store writes under. */
  readonly prefix: string;
  /** Whether the store relies on conditional writes (see the option). */
  readonly conditionalWrites: boolean;
  readonly #client: S3Client;
  readonly #owned: boolean;
  readonly #layout: Layout;

  constructor(options: S3StoreOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw invalidOptions('S3Store options must be an object');
    if ((options.client === undefined) === (options.clientConfig === undefined)) {
      throw invalidOptions('S3Store needs exactly one of: client, clientConfig');
    }
    if (options.client !== undefined && (typeof options.client !== 'object' || options.client === null || typeof options.client.send !== 'function')) {
      throw invalidOptions('client must be an S3Client (an object with a send method)');
    }
    if (options.clientConfig !== undefined && !isPlainObject(options.clientConfig)) {
      throw invalidOptions('clientConfig must be a plain object (S3ClientConfig)');
    }
    if (typeof options.bucket !== 'string' || options.bucket === '') throw invalidOptions('bucket must be a non-empty string');
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    if (typeof prefix !== 'string' || (prefix !== '' && !prefix.endsWith('/'))) {
      // A prefix not ending in "/" would make listing "app" also list "apple/...".
      throw invalidOptions("prefix must be '' or end with '/'");
    }
    if (Buffer.byteLength(prefix, 'utf8') > MAX_PREFIX_BYTES || !prefix.isWellFormed()) {
      throw invalidOptions(`prefix must be well-formed and at most ${MAX_PREFIX_BYTES} bytes`);
    }
    const conditional = options.conditionalWrites ?? true;
    if (typeof conditional !== 'boolean') throw invalidOptions('conditionalWrites must be a boolean');
    this.bucket = options.bucket;
    this.prefix = prefix;
    this.conditionalWrites = conditional;
    const config = {
      prefix,
      ttl: normalizeTtl(options.ttl),
      operationLogSize: positive(options.operationLogSize, OPERATION_LOG_RETENTION, 'operationLogSize'),
      inlineBytes: positive(options.inlineBytes, DEFAULT_INLINE_BYTES, 'inlineBytes'),
      mergeFanIn: positive(options.mergeFanIn, conditional ? 4 : 8, 'mergeFanIn'),
      segmentBytes: positive(options.segmentBytes, DEFAULT_SEGMENT_BYTES, 'segmentBytes'),
      readConcurrency: positive(options.readConcurrency, 8, 'readConcurrency'),
    };
    if (config.mergeFanIn < 2) throw invalidOptions('mergeFanIn must be at least 2');
    const requestTimeoutMs = normalizeMilliseconds(options.requestTimeoutMs, 'requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS);
    this.#owned = options.client === undefined;
    this.#client = options.client ?? new S3Client(options.clientConfig!);
    const io = new BucketIO(this.#client, this.bucket, requestTimeoutMs);
    this.#layout = conditional ? new ManifestLayout({ io, ...config }) : new LogLayout({ io, ...config });
    this.capabilities = Object.freeze({
      transactions: conditional,
      listSessions: true,
      sessionInfo: true,
      prune: true,
      ttl: true,
      persistent: true,
      atomicReadModifyWrite: conditional,
      transactionPreconditions: conditional,
      // Log mode has no compare-and-swap: a swap would be several writes a reader could see half-done.
      replaceHistory: conditional,
      historyMutations: conditional,
      // The manifest's item count is checked inside its compare-and-swap; log mode has no swap to check it in.
      conditionalAppend: conditional,
      // The manifest (with its epoch) is one snapshot; log mode's index and objects are read in several requests.
      readChanges: conditional,
    });
  }

  /** The S3 client in use (yours if you passed `client`). */
  get client(): S3Client {
    return this.#client;
  }

  protected override mapError(error: unknown): SessionError {
    return mapS3Error(error);
  }

  protected async _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    return this.#layout.getItems(sessionId, limit);
  }

  protected async _addItems(sessionId: string, items: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    const expectedLength = options?.expectedLength;
    // Core refuses expectedLength (UNSUPPORTED) unless conditionalAppend is declared, i.e. in log mode; never ignored here.
    if (expectedLength !== undefined && !this.conditionalWrites) {
      throw new SessionError(SessionErrorCode.Unsupported, 'addItems with expectedLength needs conditionalWrites');
    }
    await this.#layout.addItems(sessionId, items, expectedLength);
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    return this.#layout.popItem(sessionId, decode);
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    await this.#layout.clear(sessionId);
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction, _options?: CallOptions): Promise<void> {
    const apply = this.#layout.transaction;
    if (!apply) throw new SessionError(SessionErrorCode.Unsupported, 'transactions need conditionalWrites');
    await apply.call(this.#layout, sessionId, tx);
  }

  protected override async _replaceHistory(sessionId: string, items: EncodedItem[], _options?: CallOptions): Promise<void> {
    const replace = this.#layout.replaceHistory;
    if (!replace) throw new SessionError(SessionErrorCode.Unsupported, 'replaceHistory needs conditionalWrites');
    await replace.call(this.#layout, sessionId, items);
  }

  protected override async _readChanges(sessionId: string, since: HistoryVersion | undefined, _options?: CallOptions): Promise<EncodedChanges> {
    const read = this.#layout.readChanges;
    if (!read) throw new SessionError(SessionErrorCode.Unsupported, 'readChanges needs conditionalWrites');
    return read.call(this.#layout, sessionId, since);
  }

  protected override _listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    return this.#layout.listSessions(pageSize);
  }

  protected override _getSessionInfo(sessionId: string): Promise<SessionInfo | undefined> {
    return this.#layout.info(sessionId);
  }

  protected override _prune(olderThanMs: number): Promise<number> {
    return this.#layout.prune(olderThanMs);
  }

  protected async _close(): Promise<void> {
    if (this.#owned) this.#client.destroy();
  }
}
