/**
 * An in-process `s3rver` on a loopback port, for tests and benchmarks, behind
 * a small HTTP front that makes every object read whole and (with
 * `conditional: true`) adds the conditional writes s3rver ignores.
 *
 * s3rver 3.7.1 accepts `If-None-Match` / `If-Match` on PutObject and
 * overwrites anyway, so nothing built on compare-and-swap can be proven
 * against it. `ConditionalWriteProxy` below sits in front of s3rver and
 * enforces them on PutObject and DeleteObject as AWS documents:
 *
 * - PutObject `If-None-Match: *` on a key that exists: 412 `PreconditionFailed`.
 * - PutObject or DeleteObject `If-Match: <etag>` (or `*`) on a key whose
 *   ETag differs: 412 `PreconditionFailed`.
 * - PutObject or DeleteObject `If-Match` on a key that does not exist: 404 `NoSuchKey`.
 *
 * Every request on one key is serialised (for a conditional request: check
 * with a HEAD, then forward), so the check and the write are atomic with
 * respect to each other, as they are on S3. Conditions inside a
 * DeleteObjects body are not enforced (nothing here sends them).
 *
 * The front is always there, also without `conditional`, for a second s3rver
 * quirk: it writes an object in place (truncate, then stream) and may answer
 * the PUT before the file is complete, so a GET racing a PUT of the same key
 * can read a torn object — S3 never shows a partial object. Serialising
 * requests per key, and holding a PUT's answer until the object reads back
 * with the body's MD5, makes every read whole. Without `conditional` the front
 * does nothing else: conditional headers reach s3rver, which ignores them.
 * Listings and bucket calls are forwarded untouched. It is test scaffolding,
 * not part of any adapter.
 *
 * s3rver is loaded from the caller (pass `S3rver`) or resolved by name; the
 * kit itself does not depend on it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The parts of s3rver's class this module uses. */
export interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}

/** s3rver's constructor (`import S3rver from 's3rver'`). */
export type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/** Options for {@link startS3rver}. */
export interface StartS3rverOptions {
  /**
   * Put the conditional-write front (`If-None-Match: *`, `If-Match`) before
   * s3rver, so stores relying on compare-and-swap can be tested. Default: false.
   */
  readonly conditional?: boolean;
  /** Bucket created at start. Default: `'sessionkit-test'`. */
  readonly bucket?: string;
  /** s3rver's class. Default: `import('s3rver')`, resolved from this module or the working directory. */
  readonly S3rver?: S3rverConstructor;
}

/** A running s3rver (possibly behind the conditional-write front). */
export interface S3rverServer {
  /** `http://127.0.0.1:<port>` of the front (see the top of this file). */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: 'us-east-1';
  /** s3rver's built-in account (it checks the access key id, not V4 signatures). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Whether conditional writes are enforced. */
  readonly conditional: boolean;
  /** s3rver's own endpoint (bypasses the front: no conditional writes, torn reads possible). */
  readonly upstreamEndpoint: string;
  /** Stops the front and s3rver and removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

async function loadS3rver(): Promise<S3rverConstructor> {
  const specifier = 's3rver';
  const unwrap = (mod: unknown) => ((mod as { default?: unknown }).default ?? mod) as S3rverConstructor;
  try {
    return unwrap(await import(specifier));
  } catch (first) {
    try {
      const resolved = createRequire(join(process.cwd(), 'package.json')).resolve(specifier);
      return unwrap(await import(pathToFileURL(resolved).href));
    } catch {
      throw new Error('s3rver is not installed where it can be found: add it as a devDependency or pass { S3rver }', {
        cause: first,
      });
    }
  }
}

/** Starts s3rver on a free loopback port with a temporary directory and one bucket. */
export async function startS3rver(options: StartS3rverOptions = {}): Promise<S3rverServer> {
  const bucket = options.bucket ?? 'sessionkit-test';
  const S3rver = options.S3rver ?? (await loadS3rver());
  const directory = mkdtempSync(join(tmpdir(), 'sessionkit-s3rver-'));
  const s3rver = new S3rver({
    port: 0,
    address: HOST,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  let address: AddressInfo;
  try {
    address = await s3rver.run();
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const upstreamEndpoint = `http://${HOST}:${address.port}`;
  const proxy = new ConditionalWriteProxy(address.port, Boolean(options.conditional));
  await proxy.listen();
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${HOST}:${proxy.port}`,
    upstreamEndpoint,
    bucket,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    conditional: Boolean(options.conditional),
    stop() {
      stopped ??= (async () => {
        try {
          await proxy.close();
          s3rver.httpServer?.closeAllConnections();
          await s3rver.close();
        } finally {
          rmSync(directory, { recursive: true, force: true });
        }
      })();
      return stopped;
    },
  };
}

function xmlError(res: ServerResponse, status: number, code: string, message: string, extra = ''): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>conditional-write-proxy</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const normalizeEtag = (etag: string) => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

/**
 * The test-only front described at the top of this file: serialises every
 * request per key and, when `enforce` is set, enforces `If-None-Match: *`
 * on PutObject and `If-Match` on PutObject and DeleteObject.
 */
export class ConditionalWriteProxy {
  readonly #upstreamPort: number;
  readonly #enforce: boolean;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  readonly #locks = new Map<string, Promise<void>>();
  readonly #server: Server;
  #port = 0;

  constructor(upstreamPort: number, enforce = true) {
    this.#upstreamPort = upstreamPort;
    this.#enforce = enforce;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) xmlError(res, 502, 'InternalError', 'proxy failure');
        else res.destroy(error as Error);
      });
    });
  }

  get port(): number {
    return this.#port;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, HOST, () => {
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#agent.destroy();
  }

  /** Runs `fn` after every earlier holder of `key` finished. */
  async #withLock<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => mine);
    this.#locks.set(key, chained);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#locks.get(key) === chained) this.#locks.delete(key);
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    // "/bucket/key…": an object, not the bucket or the service.
    const isObject = /^\/[^/]+\/.+/.test(path);
    if (!isObject) return this.#forward(req, res);
    await this.#withLock(path, async () => {
      const ifNoneMatch = req.headers['if-none-match'];
      const ifMatch = req.headers['if-match'];
      const conditional = req.method === 'PUT' ? ifNoneMatch !== undefined || ifMatch !== undefined : req.method === 'DELETE' && ifMatch !== undefined;
      if (this.#enforce && conditional) {
        const current = await this.#currentEtag(req, path);
        const reject = (status: number, code: string, message: string, extra = '') => {
          req.resume();
          return new Promise<void>((resolve) => {
            req.once('end', resolve);
            req.once('error', resolve);
            xmlError(res, status, code, message, extra);
          });
        };
        if (req.method === 'PUT' && ifNoneMatch !== undefined) {
          if (ifNoneMatch.trim() !== '*') {
            return reject(501, 'NotImplemented', 'If-None-Match accepts only *');
          }
          if (current !== undefined) {
            return reject(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', '<Condition>If-None-Match</Condition>');
          }
        }
        if (ifMatch !== undefined) {
          if (current === undefined) return reject(404, 'NoSuchKey', 'The specified key does not exist.');
          const wanted = ifMatch.split(',').map(normalizeEtag);
          if (!wanted.includes('*') && !wanted.includes(normalizeEtag(current))) {
            return reject(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', '<Condition>If-Match</Condition>');
          }
        }
      }
      await this.#forward(req, res, path);
    });
  }

  /** The object's ETag now, or undefined when it does not exist (anonymous HEAD: s3rver allows it). */
  #currentEtag(req: IncomingMessage, path: string): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const head = request(
        { host: HOST, port: this.#upstreamPort, method: 'HEAD', path, agent: this.#agent, headers: { host: req.headers.host ?? HOST } },
        (res) => {
          res.resume();
          res.once('end', () => {
            if (res.statusCode === 200) resolve(String(res.headers.etag ?? ''));
            else if (res.statusCode === 404) resolve(undefined);
            else reject(new Error(`HEAD answered ${res.statusCode}`));
          });
        },
      );
      head.once('error', reject);
      head.end();
    });
  }

  /**
   * Forwards the request unchanged (same Host header, so its signature stays
   * valid) and streams the answer back. After a successful PUT it waits until
   * s3rver's file holds the whole body (s3rver may answer earlier), so the
   * next request on the key reads it whole.
   */
  async #forward(req: IncomingMessage, res: ServerResponse, path?: string): Promise<void> {
    const md5 = req.method === 'PUT' && path ? createHash('md5') : undefined;
    if (md5) req.on('data', (chunk: Buffer) => md5.update(chunk));
    await new Promise<number>((resolve, reject) => {
      const upstream = request(
        { host: HOST, port: this.#upstreamPort, method: req.method, path: req.url, headers: req.headers, agent: this.#agent },
        (answer) => {
          const code = answer.statusCode ?? 502;
          if (md5 && code === 200) {
            // Hold the answer until the object is whole; the caller may read it next.
            const chunks: Buffer[] = [];
            answer.on('data', (c: Buffer) => chunks.push(c));
            answer.once('end', () => {
              this.#settled(path!, md5.digest('hex'), req.headers.host).then(
                () => {
                  res.writeHead(code, answer.headers);
                  res.end(Buffer.concat(chunks));
                  resolve(code);
                },
                reject,
              );
            });
          } else {
            res.writeHead(code, answer.headers);
            answer.pipe(res);
            answer.once('end', () => resolve(code));
          }
          answer.once('error', reject);
        },
      );
      upstream.once('error', reject);
      req.pipe(upstream);
    });
  }

  /** Waits until the object at `path` reads back with the given MD5 (at most ~2 s). */
  async #settled(path: string, md5: string, host: string | undefined): Promise<void> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const digest = await new Promise<string>((resolve, reject) => {
        const get = request({ host: HOST, port: this.#upstreamPort, method: 'GET', path, agent: this.#agent, headers: { host: host ?? HOST } }, (answer) => {
          const hash = createHash('md5');
          answer.on('data', (c: Buffer) => hash.update(c));
          answer.once('end', () => resolve(answer.statusCode === 200 ? hash.digest('hex') : ''));
          answer.once('error', reject);
        });
        get.once('error', reject);
        get.end();
      });
      if (digest === md5) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}
