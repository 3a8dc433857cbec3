/**
 * Where the S3 tests run: s3rver started here in-process on loopback (plain,
 * or behind the conditional-write front from @sessionkit/test-servers),
 * or the real service named by S3_ENDPOINT (+ S3_BUCKET, AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, S3_REGION), which must honour conditional writes.
 */
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { startS3rver, type S3rverConstructor } from '@sessionkit/test-servers';
import { S3Store, type S3StoreOptions } from '@sessionkit/s3';
import S3rver from 's3rver';

export interface S3Target {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** True for a service that honours If-None-Match / If-Match. */
  readonly conditional: boolean;
  stop(): Promise<void>;
}

/** JSON-serialisable: what the fixture module needs to open a store on the same data. */
export interface Location {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly prefix: string;
  readonly conditionalWrites: boolean;
  readonly ttl?: number;
}

export const realService = process.env.S3_ENDPOINT;

export async function s3Target(options: { conditional: boolean }): Promise<S3Target> {
  if (realService) {
    return {
      endpoint: realService,
      bucket: process.env.S3_BUCKET ?? 'sessionkit-test',
      region: process.env.S3_REGION ?? 'us-east-1',
      credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '' },
      conditional: true,
      stop: async () => {},
    };
  }
  const server = await startS3rver({ conditional: options.conditional, S3rver: S3rver as unknown as S3rverConstructor });
  return { ...server, stop: () => server.stop() };
}

/** Client settings for the target (checksums only when required: s3rver stores aws-chunked framing otherwise). */
export function clientConfig(target: Pick<S3Target, 'endpoint' | 'region' | 'credentials'>): S3ClientConfig {
  return {
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: true,
    credentials: target.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  };
}

export function makeClient(target: Pick<S3Target, 'endpoint' | 'region' | 'credentials'>): S3Client {
  return new S3Client(clientConfig(target));
}

/** A prefix no other test uses, so tests on one bucket never see each other's data. */
export function uniquePrefix(label = 't'): string {
  return `sktest/${label}-${randomUUID().slice(0, 8)}/`;
}

export function openStore(location: Location, extra: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    clientConfig: clientConfig(location),
    bucket: location.bucket,
    prefix: location.prefix,
    conditionalWrites: location.conditionalWrites,
    ...(location.ttl !== undefined ? { ttl: location.ttl } : {}),
    ...extra,
  });
}

/** The built fixture module child processes import (it self-imports the package's dist). */
export const fixtureModule = fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url));
export const builtDist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
export const distAvailable = existsSync(builtDist);
export const buildHint = 'run `pnpm --filter @sessionkit/s3 build` first';

/**
 * Counts every HTTP request the store's client sends (each attempt, after the
 * SDK's retry middleware) through the client's own middleware stack.
 */
export function countRequests(client: S3Client) {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'sessionkitRequestCounter' },
  );
  return {
    async measure(fn: () => Promise<unknown>) {
      counts.clear();
      await fn();
      const byCommand = Object.fromEntries(counts);
      return { total: [...counts.values()].reduce((a, b) => a + b, 0), byCommand };
    },
  };
}
