// A CommonJS TypeScript project on the legacy node10 resolution (TypeScript 5's default for "module":
// "commonjs"), type-checked (never run). node10 ignores `exports`: a package root comes from `types`, a subpath
// from `typesVersions`. Both must name one declaration flavour, or a class with #private members imported from a
// root and the same class reached through a subpath are two unrelated types (TS2719 "Two different types with
// this name exist"; docs/decisions.md, "import and require").
import { compose, MemoryStore, SessionError, withCache, withFallback, type SessionStore } from '@sessionkit/core';
import { AbstractSessionStore, ForwardingStore } from '@sessionkit/core/adapter';
import type { CacheStore } from '@sessionkit/core/cache';
import type { FallbackStore } from '@sessionkit/core/fallback';
import { SqliteStore } from '@sessionkit/sqlite';
import { RedisStore } from '@sessionkit/redis';
import { MongoStore } from '@sessionkit/mongodb';
import { S3Store } from '@sessionkit/s3';
import { PostgresStore } from '@sessionkit/postgres';
import { openStore } from '@sessionkit/cli';
import { runConformance } from '@sessionkit/conformance';

// Root classes where a subpath's classes are expected, and the other way round.
export const memory: AbstractSessionStore = new MemoryStore();
export const sqlite: AbstractSessionStore = new SqliteStore({ path: ':memory:' });
export const cached: CacheStore = withCache({ maxSessions: 10 })(new MemoryStore());
export const forwarding: ForwardingStore = cached;
export const fallback: FallbackStore = withFallback({ secondaries: [new MemoryStore()] })(sqlite);
export const composed: SessionStore = compose(new SqliteStore({ path: ':memory:' }), withCache({ maxSessions: 10 }));
export const backends: readonly (abstract new (...args: never[]) => AbstractSessionStore)[] = [
  MemoryStore,
  SqliteStore,
  RedisStore,
  MongoStore,
  S3Store,
  PostgresStore,
];
export const isSessionError = (error: unknown): error is SessionError => error instanceof SessionError;
export const opened = async (url: string): Promise<SessionStore> => (await openStore(url)).store;
export const conformance = runConformance;
