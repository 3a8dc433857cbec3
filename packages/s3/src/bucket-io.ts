import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isNotFound } from './map-error.js';
import { Deadlines } from '@sessionkit/core/adapter';

/** One listed object. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: number;
}

/** A compare-and-swap precondition on PutObject. */
export type PutCondition = { readonly ifMatch: string } | { readonly ifNoneMatch: '*' } | undefined;

/**
 * The error a call fails with when the service gave no complete answer
 * within `requestTimeoutMs` (mapped to BACKEND_UNAVAILABLE by its name).
 */
function timeoutError(ms: number): Error {
  return Object.assign(new Error(`s3 gave no complete answer within ${ms} ms`), { name: 'TimeoutError' });
}

/** The few S3 calls the store makes, on one bucket. Errors are the SDK's own; the store maps them. */
export class BucketIO {
  /**
   * @param requestTimeoutMs Longest one call (all SDK attempts, and reading
   *   the body) may take before it is aborted; 0 = no limit.
   */
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    readonly requestTimeoutMs = 0,
  ) {
    this.#deadlines = requestTimeoutMs > 0 ? new Deadlines(requestTimeoutMs, { onTimeout: () => timeoutError(requestTimeoutMs) }) : undefined;
  }

  readonly #deadlines: Deadlines | undefined;

  /**
   * Runs one S3 call under the request deadline. An endpoint that accepts
   * the connection and never answers would otherwise hang the caller for
   * ever (the SDK's default handler has no request timeout).
   */
  #call<T>(fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    return this.#deadlines === undefined ? fn(undefined) : this.#deadlines.run(fn);
  }

  /** The object's text and ETag, or undefined when it does not exist. */
  async get(key: string): Promise<{ text: string; etag: string } | undefined> {
    try {
      return await this.#call(async (abortSignal) => {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal });
        const body = out.Body;
        // The deadline also covers the body: a stalled stream is destroyed, which fails the read.
        const stop = () => (body as { destroy?: (e?: Error) => void } | undefined)?.destroy?.(new Error('aborted'));
        abortSignal?.addEventListener('abort', stop, { once: true });
        try {
          const text = body ? await body.transformToString('utf-8') : '';
          return { text, etag: out.ETag ?? '' };
        } finally {
          abortSignal?.removeEventListener('abort', stop);
        }
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Writes the object (optionally only if the condition holds); returns its ETag. */
  async put(key: string, body: string, condition?: PutCondition): Promise<string> {
    const out = await this.#call((abortSignal) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/x-ndjson; charset=utf-8',
          ...(condition && 'ifMatch' in condition ? { IfMatch: condition.ifMatch } : {}),
          ...(condition && 'ifNoneMatch' in condition ? { IfNoneMatch: '*' } : {}),
        }),
        { abortSignal },
      ),
    );
    return out.ETag ?? '';
  }

  /** Deletes the object; with `ifMatch`, only while its ETag is that one (412 otherwise, 404 when it is gone). */
  async delete(key: string, ifMatch?: string): Promise<void> {
    await this.#call((abortSignal) =>
      this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: key, ...(ifMatch !== undefined ? { IfMatch: ifMatch } : {}) }),
        { abortSignal },
      ),
    );
  }

  /** Deletes keys, 1000 per request. Keys already gone count as deleted. */
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      if (chunk.length === 1) {
        await this.delete(chunk[0]!);
        continue;
      }
      const out = await this.#call((abortSignal) =>
        this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
          { abortSignal },
        ),
      );
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        throw Object.assign(new Error(`could not delete ${failed.length} objects`), { name: failed[0]?.Code ?? 'DeleteFailed' });
      }
    }
  }

  /** Every object under `prefix`, in key order, one page (at most `pageSize` keys) per request. */
  async *list(prefix: string, pageSize = 1000): AsyncGenerator<ListedObject[]> {
    let token: string | undefined;
    do {
      const continuation = token;
      const out = await this.#call((abortSignal) =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: pageSize,
            ...(continuation ? { ContinuationToken: continuation } : {}),
          }),
          { abortSignal },
        ),
      );
      const page: ListedObject[] = [];
      for (const object of out.Contents ?? []) {
        if (object.Key === undefined) continue;
        page.push({ key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified?.getTime() ?? 0 });
      }
      yield page;
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async listAll(prefix: string): Promise<ListedObject[]> {
    const all: ListedObject[] = [];
    for await (const page of this.list(prefix)) all.push(...page);
    return all;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
