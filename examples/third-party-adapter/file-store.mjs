// A third-party adapter, written the way anyone outside this repository
// would: plain ESM, only the published exports of @sessionkit/core.
//
// FileStore keeps one JSON file per session in a directory. It is a teaching
// example, not a production store: every read loads the whole file. Every
// change is a read-modify-write of that file, so it declares
// atomicReadModifyWrite only because each one runs under a per-session lock
// that every process on the machine honours (file-lock.mjs), and readers see
// whole files because writes land by rename. The first version serialised
// writers inside one process only, and the kit's concurrency.processes test
// caught it losing batches written from two processes.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { AbstractSessionStore } from '@sessionkit/core/adapter';
import { withFileLock } from './file-lock.mjs';

// One queue per session file in this process, so handles in one process wait
// their turn here instead of all polling the lock file.
const queues = new Map();
function serialise(key, task) {
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.catch(() => {});
  queues.set(key, settled);
  settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

export class FileStore extends AbstractSessionStore {
  capabilities = Object.freeze({
    transactions: false,
    listSessions: true,
    sessionInfo: true,
    prune: false,
    ttl: false,
    persistent: true,
    atomicReadModifyWrite: true,
    transactionPreconditions: false,
    replaceHistory: false,
    historyMutations: false,
  });

  /** @param {{ dir: string }} options */
  constructor(options) {
    super();
    if (!options || typeof options.dir !== 'string') {
      throw new SessionError(SessionErrorCode.InvalidArgument, 'FileStore needs { dir }');
    }
    this.dir = options.dir;
  }

  /** Runs `task` holding the session's lock, in this process and across processes. */
  locked(sessionId, task) {
    const file = this.fileOf(sessionId);
    return serialise(file, async () => {
      await mkdir(this.dir, { recursive: true });
      return withFileLock(`${file}.lock`, task);
    });
  }

  // The id is data: named by its SHA-256, it can never be a path, a separator
  // or "..", and a 512-character id still fits a file name (the conformance
  // kit's ids.hostile test caught the first version, which hex-encoded it).
  fileOf(sessionId) {
    return join(this.dir, `${createHash('sha256').update(sessionId, 'utf8').digest('hex')}.json`);
  }

  async read(sessionId) {
    try {
      return JSON.parse(await readFile(this.fileOf(sessionId), 'utf8'));
    } catch (error) {
      if (error.code === 'ENOENT') return undefined;
      throw new SessionError(SessionErrorCode.CorruptData, 'session file is unreadable', { cause: error });
    }
  }

  // Write to a temporary file, then rename: a crash never leaves half a file.
  async write(sessionId, data) {
    await mkdir(this.dir, { recursive: true });
    const temporary = join(this.dir, `.${randomUUID()}.tmp`);
    await writeFile(temporary, JSON.stringify(data));
    await rename(temporary, this.fileOf(sessionId));
  }

  update(sessionId, change) {
    return this.locked(sessionId, async () => {
      const now = Date.now();
      const data = (await this.read(sessionId)) ?? { sessionId, created: now, updated: now, items: [] };
      const result = await change(data);
      data.updated = now;
      if (data.items.length === 0) await rm(this.fileOf(sessionId), { force: true });
      else await this.write(sessionId, data);
      return result;
    });
  }

  async _getItems(sessionId, limit) {
    const items = (await this.read(sessionId))?.items ?? [];
    return limit === undefined ? items : items.slice(-limit);
  }

  async _addItems(sessionId, items) {
    await this.update(sessionId, (data) => {
      data.items.push(...items);
    });
  }

  async _popItem(sessionId, decode) {
    return this.update(sessionId, (data) => {
      if (data.items.length === 0) return undefined;
      const value = decode(data.items.at(-1)); // throws on corrupt data, before anything is removed
      data.items.pop();
      return value;
    });
  }

  async _clearSession(sessionId) {
    await this.locked(sessionId, () => rm(this.fileOf(sessionId), { force: true }));
  }

  async *_listSessions(pageSize) {
    let names;
    try {
      names = (await readdir(this.dir)).filter((name) => name.endsWith('.json'));
    } catch (error) {
      if (error.code === 'ENOENT') return;
      throw error;
    }
    for (let start = 0; start < names.length; start += pageSize) {
      for (const name of names.slice(start, start + pageSize)) {
        // The file keeps the id itself, since its name is a one-way hash.
        let text;
        try {
          text = await readFile(join(this.dir, name), 'utf8');
        } catch (error) {
          if (error.code === 'ENOENT') continue; // cleared since readdir
          throw error;
        }
        const info = await this._getSessionInfo(JSON.parse(text).sessionId);
        if (info) yield info;
      }
    }
  }

  async _getSessionInfo(sessionId) {
    const data = await this.read(sessionId);
    if (!data || data.items.length === 0) return undefined;
    return { sessionId, itemCount: data.items.length, createdAt: new Date(data.created), updatedAt: new Date(data.updated) };
  }

  async _close() {}
}

/** Opens a FileStore on `{ dir }`: what the conformance kit's child processes call. */
export function openStore(location) {
  return new FileStore(location);
}
