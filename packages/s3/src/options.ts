import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * Options for {@link S3Store}. Give exactly one of `client` (yours; never
 * destroyed by the store) or `clientConfig` (the store creates the client and
 * destroys it on `close()`).
 */
export interface S3StoreOptions {
  /** An `S3Client` you created and own. The store never destroys it. Default: none. */
  readonly client?: S3Client;
  /**
   * Configuration for a store-owned `S3Client` (endpoint, region,
   * credentials, `forcePathStyle`...). For s3rver also set
   * `requestChecksumCalculation` and `responseChecksumValidation` to
   * `'WHEN_REQUIRED'`. Default: none.
   */
  readonly clientConfig?: S3ClientConfig;
  /** The bucket. It must exist. Required. */
  readonly bucket: string;
  /**
   * Key prefix of every object the store writes: `''` or a string ending in
   * `/`, at most 256 bytes. Use one per application and environment; it must
   * not hold anything else. Default: `'sessionkit/'`.
   */
  readonly prefix?: string;
  /**
   * Whether the service honours `If-None-Match: *` and `If-Match` on
   * PutObject (AWS S3, MinIO, R2 do; plain s3rver and some gateways do not).
   * `true`: one manifest per session updated by compare-and-swap, with
   * atomic pop, transactions and replace. `false`: each append writes its
   * own object and nothing is compare-and-swapped; pop is best effort and
   * transactions are unavailable (see docs/s3.md). Never open one prefix in
   * both modes. Default: `true`.
   */
  readonly conditionalWrites?: boolean;
  /**
   * Milliseconds after the last write (append, pop, transaction) at which a
   * session expires. Expired sessions read as empty at once; `prune` and an
   * S3 lifecycle rule (docs/s3.md) delete their objects. Default: none.
   */
  readonly ttl?: number;
  /** Operation ids remembered per session for transaction idempotency. Default: 1000 (`OPERATION_LOG_RETENTION`). */
  readonly operationLogSize?: number;
  /**
   * Conditional mode: the newest items are kept inside the manifest up to
   * this many bytes, so a short tail read is one GET; past it they move to
   * an immutable segment object. Default: 16 384.
   */
  readonly inlineBytes?: number;
  /**
   * How many objects of similar size are merged into one: in conditional
   * mode when that many segments of one size class are newest, in log mode
   * when that many small batch objects exist. Bounds the objects a full
   * read fetches. Default: 4 (conditional), 8 (log).
   */
  readonly mergeFanIn?: number;
  /**
   * Log mode: objects at least this large are never merged again. Default: 1 048 576.
   */
  readonly segmentBytes?: number;
  /**
   * Longest one S3 request may take, in milliseconds, including the SDK's
   * own retries and reading the answer's body; past it the request is
   * aborted and the call fails with BACKEND_UNAVAILABLE (an endpoint that
   * accepts connections but never answers would otherwise hang the call).
   * Applies to the store's requests on your `client` too, never to your own.
   * `0` turns it off. Default: 30 000.
   */
  readonly requestTimeoutMs?: number;
  /** Most GETs one call runs in parallel. Default: 8. */
  readonly readConcurrency?: number;
}
