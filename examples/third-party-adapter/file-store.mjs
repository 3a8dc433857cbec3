// A third-party adapter, written the way anyone outside this repository
// would: plain ESM, only the published exports of @sessionkit/core.
//
// FileStore keeps one JSON file per session in a directory. It is a teaching
// example, not a production store: every read loads the whole file, and
// writers are serialised per directory inside one process only.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { AbstractSessionStore, SessionError, SessionErrorCode } from '@sessionkit/core';

// One queue per directory, shared by every FileStore on it in this process,
// so two handles on the same directory cannot interleave read-modify-writes.
const queues = new Map();
function serialise(dir, task) {
  const previous = queues.get(dir) ?? Promise.resolve();
  const next = previous.then(task, task);
  queues.set(dir, next.catch(() => {}));
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
  });

  /** @param {{ dir: string }} options */
  constructor(options) {
    super();
    if (!options || typeof options.dir !== 'string') {
      throw new SessionError(SessionErrorCode.InvalidArgument, 'FileStore needs { dir }');
    }
    this.dir = options.dir;
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
    return serialise(this.dir, async () => {
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
    await serialise(this.dir, () => rm(this.fileOf(sessionId), { force: true }));
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
        const data = JSON.parse(await readFile(join(this.dir, name), 'utf8'));
        const info = await this._getSessionInfo(data.sessionId);
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
