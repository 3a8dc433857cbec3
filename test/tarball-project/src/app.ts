// A small TypeScript app over every package, type-checked (never run) in nodenext and bundler modes with
// skipLibCheck: false, so every declaration file it reaches is checked too.
import { Agent, run, type AgentInputItem } from '@openai/agents';
import {
  compose,
  MemoryStore,
  SessionError,
  withAnalytics,
  withCache,
  withEncryption,
  withMonitoring,
  type SessionStore,
} from '@sessionkit/core';
import { AbstractSessionStore } from '@sessionkit/core/adapter';
import { tiktokenTokenizer } from '@sessionkit/core/analytics';
import { SqliteStore } from '@sessionkit/sqlite';
import { RedisStore } from '@sessionkit/redis';
import { MongoStore } from '@sessionkit/mongodb';
import { S3Store } from '@sessionkit/s3';
import { PostgresStore } from '@sessionkit/postgres';
import { openStore } from '@sessionkit/cli';
import { runConformance, type ConformanceHarness } from '@sessionkit/conformance';

export const backends: readonly (abstract new (...args: never[]) => SessionStore)[] = [
  MemoryStore,
  SqliteStore,
  RedisStore,
  MongoStore,
  S3Store,
  PostgresStore,
  AbstractSessionStore,
];

export async function main(agent: Agent): Promise<string | undefined> {
  // `await using` compiles down for Node 22 (docs/bundling.md); Symbol.asyncDispose comes from @types/node.
  await using store = compose(
    new SqliteStore({ path: 'conversations.db' }),
    withEncryption({ keys: { k1: new Uint8Array(32) }, primary: 'k1' }),
    withMonitoring({ onOperation: (event) => console.log(event) }),
    withAnalytics({ tokenizer: await tiktokenTokenizer('o200k_base') }),
    withCache({ maxSessions: 100 }),
  );
  const session = store.session('user-123');
  const history: AgentInputItem[] = await session.getItems();
  const result = await run(agent, history.length ? "What's my name?" : "Hello, I'm John", { session });
  return result.finalOutput;
}

export async function conforms(): Promise<boolean> {
  const harness: ConformanceHarness = { create: () => new MemoryStore() };
  const report = await runConformance('MemoryStore', harness);
  return report.ok;
}

export function isSessionError(error: unknown): error is SessionError {
  return error instanceof SessionError;
}

export const opened = (url: string) => openStore(url);
