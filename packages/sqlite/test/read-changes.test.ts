import Database from 'better-sqlite3';
import { SessionErrorCode } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tableNames } from '../src/schema.js';
import { ensureBuilt, runWorkers, tempDir } from './setup.js';

// readChanges beyond the conformance tests (changes.*): what only SQLite can
// show — which rows the appended read takes, the one snapshot, epochs shared
// through the file by separate processes — and ids as data.

const temp = tempDir('changes');
beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => temp.remove());

const t = tableNames('sessionkit_');
const msg = (n: number) => ({ role: 'user', content: `m${n}` });

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const handle of open.splice(0).reverse()) await handle.close();
});
function track<T extends { close(): unknown }>(handle: T): T {
  open.push(handle);
  return handle;
}

/** Another connection's pop of the session's newest item, with a new epoch, as the store writes it. */
function rawPop(db: Database.Database, sessionId: string, epoch: string): void {
  db.transaction(() => {
    const sid = db.prepare(`SELECT sid FROM ${t.sessions} WHERE session_id = ?`).pluck().get(sessionId);
    db.prepare(`DELETE FROM ${t.items} WHERE sid = ? AND seq = (SELECT max(seq) FROM ${t.items} WHERE sid = ?)`).run(sid, sid);
    db.prepare(`UPDATE ${t.sessions} SET item_count = item_count - 1, epoch = ? WHERE sid = ?`).run(epoch, sid);
  }).immediate();
}

describe('readChanges on SQLite', () => {
  it('after an appended batch reads the newest rows by sequence, never positions counted from the start', async () => {
    const path = temp.file();
    const store = track(new SqliteStore({ path }));
    await store.addItems('s', Array.from({ length: 1000 }, (_, n) => msg(n)));
    const { version } = await store.readChanges('s');
    await store.addItems('s', [msg(1000), msg(1001), msg(1002)]);
    // The rows the version already covers go (the session row still counts
    // them). A read that offsets from the first row, or reads them all and
    // slices, now finds nothing past position 1000; the tail read is unaffected.
    const raw = new Database(path);
    expect(raw.prepare(`DELETE FROM ${t.items} WHERE seq <= 1000`).run().changes).toBe(1000);
    raw.close();
    expect(await store.readChanges('s', version)).toEqual({
      version: { epoch: version.epoch, length: 1003 },
      whole: false,
      items: [msg(1000), msg(1001), msg(1002)],
    });
  });

  it('reads the version and the items in one snapshot: another connection writing between the two reads is not seen', async () => {
    const path = temp.file();
    let between: (() => void) | undefined;
    // verbose runs as each statement starts: the items read is the second, after the session row.
    const database = track(
      new Database(path, {
        verbose: (sql) => {
          if (between && String(sql).startsWith(`SELECT item FROM ${t.items}`)) {
            const write = between;
            between = undefined;
            write();
          }
        },
      }),
    );
    database.pragma('journal_mode = WAL');
    const writer = track(new Database(path));
    const store = track(new SqliteStore({ database }));
    await store.addItems('s', [msg(0), msg(1), msg(2)]);
    const first = (await store.readChanges('s')).version;
    await store.addItems('s', [msg(3)]);

    between = () => rawPop(writer, 's', 'popped-once');
    expect(await store.readChanges('s', first)).toEqual({ version: { epoch: first.epoch, length: 4 }, whole: false, items: [msg(3)] });
    expect(between, 'the other connection wrote during the read').toBeUndefined();
    const afterPop = await store.readChanges('s', first);
    expect(afterPop).toEqual({ version: { epoch: 'popped-once', length: 3 }, whole: true, items: [msg(0), msg(1), msg(2)] });

    between = () => rawPop(writer, 's', 'popped-twice');
    expect(await store.readChanges('s')).toEqual(afterPop);
    expect(between, 'the other connection wrote during the read').toBeUndefined();
    expect(await store.readChanges('s')).toEqual({ version: { epoch: 'popped-twice', length: 2 }, whole: true, items: [msg(0), msg(1)] });
  });

  it('append_items transactions, their replays and conditional appends keep the epoch; each session has its own', async () => {
    const store = track(new SqliteStore({ path: temp.file() }));
    await store.addItems('s', [msg(0)]);
    await store.addItems('t', [msg(0)]);
    const version = (await store.readChanges('s')).version;
    const append = { operationId: 'op-1', transaction: { type: 'append_items' as const, items: [msg(1)] } };
    await store.applyHistoryTransaction('s', append);
    await store.applyHistoryTransaction('s', append); // a replay: a no-op
    await store.addItems('s', [msg(2)], { expectedLength: 2 });
    await expect(store.addItems('s', [msg(9)], { expectedLength: 0 })).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
    expect(await store.readChanges('s', version)).toEqual({ version: { epoch: version.epoch, length: 3 }, whole: false, items: [msg(1), msg(2)] });
    // Another session at the same length: the version names nothing there.
    await store.addItems('t', [msg(1), msg(2)]);
    const other = await store.readChanges('t', { epoch: version.epoch, length: 1 });
    expect(other.whole).toBe(true);
    expect(other.version.epoch).not.toBe(version.epoch);
  });

  it('hostile session ids are data: each reads its own changes, and the tables stay whole', async () => {
    const path = temp.file();
    const store = track(new SqliteStore({ path }));
    const ids = ["'; DROP TABLE sessionkit_items; --", "x' OR '1'='1", '" OR 1=1 --', '%', '_', 'a', 'a\u0000b', 'sessionkit_sessions', '🙂'.repeat(100)];
    const versions = [];
    for (const [n, id] of ids.entries()) {
      await store.addItems(id, [msg(n)]);
      versions.push((await store.readChanges(id)).version);
    }
    for (const [n, id] of ids.entries()) await store.addItems(id, [msg(100 + n)]);
    for (const [n, id] of ids.entries()) {
      expect(await store.readChanges(id, versions[n]), id).toEqual({
        version: { epoch: versions[n]!.epoch, length: 2 },
        whole: false,
        items: [msg(100 + n)],
      });
      expect((await store.readChanges(id)).items, id).toEqual([msg(n), msg(100 + n)]);
    }
    expect(new Set(versions.map((v) => v.epoch)).size).toBe(ids.length);
    expect(await store.readChanges('a\u0000')).toEqual({ version: { epoch: '', length: 0 }, whole: true, items: [] });
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare(`SELECT count(*) FROM ${t.items}`).pluck().get()).toBe(2 * ids.length);
    raw.close();
  });

  it('separate processes share the epochs through the file: a pop there makes changes here whole, its appends are changes', async () => {
    const path = temp.file();
    const store = track(new SqliteStore({ path }));
    await store.addItems('s', [msg(0), msg(1), msg(2)]);
    const mine = await store.readChanges('s');
    const [theirs, theirsSince] = await runWorkers([
      { kind: 'changes', path, sessionId: 's' },
      { kind: 'changes', path, sessionId: 's', since: mine.version },
    ]);
    expect(theirs!.changes, 'the same version in another process').toEqual(mine);
    expect(theirsSince!.changes).toEqual({ version: mine.version, whole: false, items: [] });

    await runWorkers([{ kind: 'pop', path, sessionId: 's', count: 1 }]);
    const afterPop = await store.readChanges('s', mine.version);
    expect(afterPop.whole, "another process's pop").toBe(true);
    expect(afterPop.items).toEqual([msg(0), msg(1)]);
    expect(afterPop.version.epoch).not.toBe(mine.version.epoch);

    await runWorkers([{ kind: 'append', path, sessionId: 's', writer: 7, batches: 1, batchSize: 2 }]);
    const appended = await store.readChanges('s', afterPop.version);
    expect(appended).toEqual({
      version: { epoch: afterPop.version.epoch, length: 4 },
      whole: false,
      items: [{ w: 7, b: 0, i: 0 }, { w: 7, b: 0, i: 1 }],
    });
    const [again] = await runWorkers([{ kind: 'changes', path, sessionId: 's', since: afterPop.version }]);
    expect(again!.changes, 'a version from this process, read there').toEqual(appended);
  }, 120_000);
});
