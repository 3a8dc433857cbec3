/** Shared by the SQLite tests: temp files, the built dist for child processes, raw handles. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt as build, runNodeJob } from '@sessionkit/test-servers';
import Database from 'better-sqlite3';
import { DEFAULT_TABLE_PREFIX } from '../src/options.js';
import { tableNames } from '../src/schema.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
export const builtDist = join(packageDir, 'dist', 'index.js');
export const openStoreModule = fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url));
export const workerModule = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));

/** Child processes import the built package; a bare `vitest run` on a fresh tree builds it once. */
export const ensureBuilt = (): void => void build(packageDir, '@sessionkit/sqlite');

/** A temp directory per test file, removed by `remove()`. */
export function tempDir(label: string): { dir: string; file(name?: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `sessionkit-sqlite-${label}-`));
  let n = 0;
  return {
    dir,
    file: (name) => join(dir, name ?? `${++n}.db`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Appends one undecodable item at the end of a session's history straight
 * through a separate better-sqlite3 handle, past the codec, keeping the
 * session row's counters in step as the store would.
 */
export function injectCorruptRow(
  path: string,
  sessionId: string,
  options: { prefix?: string; text?: string; database?: Database.Database } = {},
): void {
  const t = tableNames(options.prefix ?? DEFAULT_TABLE_PREFIX);
  const db = options.database ?? new Database(path, { timeout: 5000 });
  try {
    db.transaction(() => {
      const now = Date.now();
      db.prepare(
        `INSERT INTO ${t.sessions} (session_id, created_at, updated_at, epoch) VALUES (?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING`,
      ).run(sessionId, now, now, randomUUID());
      const row = db.prepare(`SELECT sid, last_seq FROM ${t.sessions} WHERE session_id = ?`).get(sessionId) as {
        sid: number;
        last_seq: number;
      };
      db.prepare(`INSERT INTO ${t.items} (sid, seq, item) VALUES (?, ?, ?)`).run(row.sid, row.last_seq + 1, options.text ?? '{"corrupt": ');
      db.prepare(
        `UPDATE ${t.sessions} SET last_seq = last_seq + 1, item_count = item_count + 1, updated_at = ?,
           created_at = CASE WHEN item_count = 0 THEN ? ELSE created_at END WHERE sid = ?`,
      ).run(now, now, row.sid);
    }).immediate();
  } finally {
    if (!options.database) db.close();
  }
}

export interface WorkerResult {
  ok: boolean;
  errors: { code?: string; message: string }[];
  popped?: unknown[];
  applied?: boolean;
  changes?: { version: { epoch: string; length: number }; whole: boolean; items: unknown[] };
  code?: string;
}

/** Runs fixtures/worker.mjs jobs in separate processes, all released at the same instant. */
export async function runWorkers(jobs: readonly Record<string, unknown>[], timeoutMs = 60_000): Promise<WorkerResult[]> {
  const startAt = Date.now() + 400 + jobs.length * 60;
  return Promise.all(jobs.map((job) => runNodeJob<WorkerResult>(workerModule, { ...job, startAt }, timeoutMs)));
}
