/**
 * Where the server tests run: the MongoDB named by MONGODB_URI, else one that
 * mongodb-memory-server-core starts (it downloads a mongod, so it needs
 * internet), else nowhere — and then the caller skips with one loud line.
 * A MONGODB_URI that is set but unreachable is a failure, never a skip: the
 * user asked for that server. Never a substitute server.
 */
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

export interface MongoTarget {
  readonly uri: string;
  /** Where it came from, for the test names. */
  readonly label: string;
  /** True when the server runs transactions (replica set or sharded). */
  readonly replicated: boolean;
  stop(): Promise<void>;
}

export type TargetResult =
  | { readonly target: MongoTarget }
  | { readonly skip: string }
  /** MONGODB_URI was set and could not be used: the caller fails (a test that throws `fail`). */
  | { readonly fail: string };

export interface TargetOptions {
  /** The MONGODB_URI to use. Default: `process.env.MONGODB_URI`. */
  readonly uri?: string | undefined;
  /** Server selection timeout for probing it. Default: 5000. */
  readonly timeoutMS?: number;
}

/** How long mongodb-memory-server may take to start (download included) before we give up. */
const MEMORY_SERVER_TIMEOUT_MS = Number(process.env.MONGOMS_START_TIMEOUT_MS ?? 60_000);

export const fixtureModule = fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url));
export const distAvailable = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));
export const buildHint = 'run `pnpm --filter @sessionkit/mongodb build` first';

export function skipLine(what: string, why: string): string {
  return (
    `!!! SKIPPED ${what}: no MongoDB server (${why}). Enable with MONGODB_URI=mongodb://host:port/ ` +
    '(a replica set also runs the transaction path), or on a machine with internet access, where ' +
    'mongodb-memory-server-core downloads and starts a mongod by itself.'
  );
}

export function failLine(why: string): string {
  return `!!! FAILED mongodb server tests: MONGODB_URI is set but unusable (${why}). Fix or unset MONGODB_URI.`;
}

async function isReplicated(uri: string, timeoutMS: number): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMS });
  try {
    await client.connect();
    const hello = await client.db('admin').command({ hello: 1 });
    return hello.msg === 'isdbgrid' || typeof hello.setName === 'string';
  } finally {
    await client.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, onLate: (value: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Whatever starts after we gave up is stopped, not leaked.
      promise.then(onLate, () => {});
      reject(new Error(`did not start within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves where to run, once per test file. */
export async function mongoTarget(options: TargetOptions = {}): Promise<TargetResult> {
  const env = 'uri' in options ? options.uri : process.env.MONGODB_URI;
  if (env) {
    try {
      const replicated = await isReplicated(env, options.timeoutMS ?? 5_000);
      return { target: { uri: env, label: 'MONGODB_URI', replicated, stop: async () => {} } };
    } catch (error) {
      // The URI may carry credentials: only the driver's error name and message are reported.
      const { name, message } = error as Error;
      return { fail: `${name}: ${String(message).split('\n', 1)[0]!.slice(0, 200)}` };
    }
  }
  // One quick download attempt here; on a machine without internet it fails in milliseconds.
  process.env.MONGOMS_MAX_RETRIES ??= '1';
  try {
    const { MongoMemoryReplSet } = await import('mongodb-memory-server-core');
    // A one-member replica set: transactions work, and the same server runs the single-document scheme too.
    const replSet = await withTimeout(
      MongoMemoryReplSet.create({ replSet: { count: 1, storageEngine: 'wiredTiger' } }),
      MEMORY_SERVER_TIMEOUT_MS,
      (late) => void late.stop().catch(() => {}),
    );
    const uri = replSet.getUri();
    return {
      target: {
        uri,
        label: 'mongodb-memory-server replica set',
        replicated: true,
        stop: async () => {
          await replSet.stop();
        },
      },
    };
  } catch (error) {
    const message = (error as Error).message.split('\n', 1)[0] ?? '';
    return { skip: `MONGODB_URI is not set and mongodb-memory-server-core could not start a mongod: ${message.slice(0, 160)}` };
  }
}

/** A database name no other test run uses (dropped in teardown). */
export function uniqueDatabase(): string {
  return `sktest_${randomUUID().slice(0, 8)}`;
}
