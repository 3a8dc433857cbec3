import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
// Relative import: core cannot depend on @sessionkit/sqlite (it depends on core); vitest maps it to the same source.
import * as sqlite from '../../sqlite/src/index.js';
import * as sqliteSchema from '../../sqlite/src/schema.js';
import { SessionErrorCode, isSessionError, withEncryption, type SessionStore } from '@sessionkit/core';
import { reencryptSession } from '@sessionkit/core/encryption';

type SqliteCtor = new (options: { path: string }) => SessionStore;
const SqliteStore = (sqlite as Record<string, unknown>).SqliteStore as SqliteCtor | undefined;
const tableNames = (sqliteSchema as Record<string, unknown>).tableNames as ((prefix: string) => { items: string; sessions: string }) | undefined;

// better-sqlite3 is @sessionkit/sqlite's dependency, not core's: load it from there to edit the file directly.
interface RawDatabase {
  prepare(sql: string): { get(...args: unknown[]): unknown; all(...args: unknown[]): unknown[]; run(...args: unknown[]): unknown };
  close(): void;
}
const Database = createRequire(new URL('../../sqlite/package.json', import.meta.url))('better-sqlite3') as new (
  path: string,
) => RawDatabase;

const keys = { k1: new Uint8Array(32).fill(1), k2: new Uint8Array(32).fill(2) };
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-encryption-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

if (typeof SqliteStore !== 'function' || typeof tableNames !== 'function') {
  console.warn('!!! SKIPPED withEncryption raw SQLite file tests: @sessionkit/sqlite does not export SqliteStore yet');
  describe.skip('withEncryption on SqliteStore', () => it('needs @sessionkit/sqlite', () => {}));
} else {
  const t = tableNames('sessionkit_');
  const open = (path: string, primary: 'k1' | 'k2' = 'k1') =>
    withEncryption({ keys, primary })(new SqliteStore({ path }));
  /** Every byte SQLite wrote for this database: main file, WAL and shared memory. */
  const rawBytes = (path: string) =>
    Buffer.concat([path, `${path}-wal`, `${path}-shm`, `${path}-journal`].filter(existsSync).map((file) => readFileSync(file)));
  const sql = (path: string) => new Database(path);
  const decryptionFails = (action: () => Promise<unknown>) =>
    expect(action()).rejects.toMatchObject({ code: SessionErrorCode.DecryptionFailed });

  describe('withEncryption on SqliteStore', () => {
    it('no plaintext of any item, written any way, reaches the database file', async () => {
      const path = join(dir, 'raw.db');
      const store = open(path);
      const markers = Array.from({ length: 12 }, (_, i) => `PLAINTEXT-MARKER-${i}-${'x'.repeat(i)}`);
      const item = (i: number) => ({ role: i % 2 ? 'assistant' : 'user', content: markers[i], data: new TextEncoder().encode(markers[i]) });
      await store.addItems('s', [item(0), item(1), item(2)]);
      await store.addItems('s', [item(3)]);
      expect(await store.popItem('s')).toEqual(item(3));
      await store.applyHistoryTransaction!('s', { operationId: 'op-1', transaction: { type: 'append_items', items: [item(4), item(5)] } });
      await store.applyHistoryTransaction!('s', {
        operationId: 'op-2',
        transaction: { type: 'replace_suffix', expectedSuffix: [item(4), item(5)], replacement: [item(6)] },
      });
      await store.addItems('other', [item(7), item(8)]);
      await store.clearSession('other');
      await store.addItems('other', [item(9), item(10), item(11)]);
      expect(await store.getItems('s')).toEqual([item(0), item(1), item(2), item(6)]);
      expect(await store.getItems('other')).toEqual([item(9), item(10), item(11)]);
      const live = rawBytes(path);
      await store.close();
      for (const bytes of [live, rawBytes(path)]) {
        expect(bytes.length).toBeGreaterThan(0);
        for (const marker of markers) {
          expect(bytes.includes(marker), marker).toBe(false);
          expect(bytes.includes(Buffer.from(marker).toString('base64').slice(0, 16)), `${marker} (base64)`).toBe(false);
          expect(bytes.includes(Buffer.from(marker, 'utf16le')), `${marker} (UTF-16)`).toBe(false);
        }
        for (const word of ['"role"', '"content"', 'assistant']) expect(bytes.includes(word), word).toBe(false);
      }
    });

    it('detects a row tampered with in the file, and a pop leaves it there', async () => {
      const path = join(dir, 'tamper.db');
      const store = open(path);
      await store.addItems('s', [{ content: 'a' }, { content: 'b' }]);
      const db = sql(path);
      const row = db.prepare(`SELECT rowid, item FROM ${t.items} ORDER BY seq DESC LIMIT 1`).get() as { rowid: number; item: string };
      const envelope = JSON.parse(row.item);
      const c = Buffer.from(envelope.c, 'base64');
      c[0] = c[0]! ^ 0x80;
      db.prepare(`UPDATE ${t.items} SET item = ? WHERE rowid = ?`).run(JSON.stringify({ ...envelope, c: c.toString('base64') }), row.rowid);
      db.close();
      for (const action of [() => store.getItems('s'), () => store.getItems('s', { limit: 1 }), () => store.popItem('s')]) {
        await expect(action()).rejects.toSatisfy((error) => isSessionError(error, SessionErrorCode.DecryptionFailed));
      }
      expect(await store.getItems('s', { limit: 0 })).toEqual([]);
      await expect(store.popItem('s')).rejects.toMatchObject({ code: SessionErrorCode.DecryptionFailed });
      expect(await store.getSessionInfo!('s')).toMatchObject({ itemCount: 2 });
      await store.close();
    });

    it('a ciphertext moved to another session in the file fails to decrypt', async () => {
      const path = join(dir, 'swap.db');
      const store = open(path);
      await store.addItems('alice', [{ content: 'alice only' }]);
      await store.addItems('bob', [{ content: 'bob only' }]);
      const db = sql(path);
      const sidOf = (id: string) => (db.prepare(`SELECT sid FROM ${t.sessions} WHERE session_id = ?`).get(id) as { sid: number }).sid;
      const [alice, bob] = [sidOf('alice'), sidOf('bob')];
      // Swap the two sessions' stored items.
      const itemOf = (sid: number) => (db.prepare(`SELECT item FROM ${t.items} WHERE sid = ?`).get(sid) as { item: string }).item;
      const [a, b] = [itemOf(alice), itemOf(bob)];
      db.prepare(`UPDATE ${t.items} SET item = ? WHERE sid = ?`).run(b, alice);
      db.prepare(`UPDATE ${t.items} SET item = ? WHERE sid = ?`).run(a, bob);
      db.close();
      await expect(store.getItems('alice')).rejects.toMatchObject({ code: SessionErrorCode.DecryptionFailed });
      await expect(store.getItems('bob')).rejects.toMatchObject({ code: SessionErrorCode.DecryptionFailed });
      await store.close();
    });

    it('order is authenticated: rows swapped, deleted from the middle or duplicated in the file fail to decrypt', async () => {
      const path = join(dir, 'reorder.db');
      const store = open(path);
      await store.addItems('s', [{ content: 'first' }, { content: 'second' }, { content: 'third' }]);
      const rowsOf = (db: RawDatabase) =>
        db.prepare(`SELECT rowid, seq, item FROM ${t.items} ORDER BY seq`).all() as { rowid: number; seq: number; item: string }[];
      const edit = async (change: (db: RawDatabase, rows: { rowid: number; seq: number; item: string }[]) => void) => {
        const db = sql(path);
        const rows = rowsOf(db);
        change(db, rows);
        db.close();
        return rows;
      };
      const original = await edit(() => {});
      const restore = () =>
        edit((db) => {
          db.prepare(`DELETE FROM ${t.items}`).run();
          const insert = db.prepare(`INSERT INTO ${t.items} (rowid, sid, seq, item) SELECT ?, sid, ?, ? FROM ${t.sessions}`);
          for (const row of original) insert.run(row.rowid, row.seq, row.item);
        });
      // Swap two rows' contents.
      await edit((db, rows) => {
        const update = db.prepare(`UPDATE ${t.items} SET item = ? WHERE rowid = ?`);
        update.run(rows[1]!.item, rows[0]!.rowid);
        update.run(rows[0]!.item, rows[1]!.rowid);
      });
      await decryptionFails(() => store.getItems('s'));
      await decryptionFails(() => store.getItems('s', { limit: 3 }));
      // Drop the middle row.
      await restore();
      expect(await store.getItems('s')).toEqual([{ content: 'first' }, { content: 'second' }, { content: 'third' }]);
      await edit((db, rows) => db.prepare(`DELETE FROM ${t.items} WHERE rowid = ?`).run(rows[1]!.rowid));
      await decryptionFails(() => store.getItems('s'));
      // Duplicate the first row in place of the second.
      await restore();
      await edit((db, rows) => db.prepare(`UPDATE ${t.items} SET item = ? WHERE rowid = ?`).run(rows[0]!.item, rows[1]!.rowid));
      await decryptionFails(() => store.getItems('s'));
      // Drop the oldest row: a whole-history read must start at position 0.
      await restore();
      await edit((db, rows) => db.prepare(`DELETE FROM ${t.items} WHERE rowid = ?`).run(rows[0]!.rowid));
      await decryptionFails(() => store.getItems('s'));
      await store.close();
    });

    it('rotates keys on disk: history written under k1 is read with k1+k2 and re-encrypted under k2', async () => {
      const path = join(dir, 'rotate.db');
      const before = open(path, 'k1');
      await before.addItems('s', [{ content: 'one' }, { content: 'two' }]);
      await before.close();
      const after = open(path, 'k2');
      await after.addItems('s', [{ content: 'three' }]);
      expect(await after.getItems('s')).toEqual([{ content: 'one' }, { content: 'two' }, { content: 'three' }]);
      expect(await reencryptSession(after, 's')).toBe(2);
      await after.close();
      const db = sql(path);
      const ids = (db.prepare(`SELECT item FROM ${t.items} ORDER BY seq`).all() as { item: string }[]).map((r) => JSON.parse(r.item).k);
      db.close();
      expect(ids).toEqual(['k2', 'k2', 'k2']);
      const onlyK2 = withEncryption({ keys: { k2: keys.k2 }, primary: 'k2' })(new SqliteStore({ path }));
      expect(await onlyK2.getItems('s')).toEqual([{ content: 'one' }, { content: 'two' }, { content: 'three' }]);
      await onlyK2.close();
    });
  });
}
