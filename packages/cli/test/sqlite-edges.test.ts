import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { SqliteStore } from '@sessionkit/sqlite';
import { copySessions, redact } from '@sessionkit/cli';
import { cli, cliJson, sampleItems, tempDir } from './helpers.js';

// Edges found from outside, on SQLite files only (no server needed).
describe('export, import, show and copy at the edges', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('U+2028 and U+2029 in items and ids survive export and import, and stay escaped in the file', async () => {
    const source = `sqlite:${tmp.path('seps.db')}`;
    const id = 'line\u2028sep\u2029id';
    const items = [{ role: 'user', content: 'one\u2028two\u2029three' }, { role: 'assistant', content: 'plain' }];
    const store = new SqliteStore({ path: tmp.path('seps.db') });
    await store.addItems(id, items);
    await store.addItems('after', [{ role: 'user', content: 'next' }]);
    await store.close();
    const file = tmp.path('seps.jsonl');
    expect((await cli(['export', source, '--out', file])).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/[\u2028\u2029]/);
    const target = `sqlite:${tmp.path('seps-target.db')}`;
    expect(await cliJson(['import', target, file])).toMatchObject({ sessions: 2, written: 2 });
    expect(await cliJson(['show', target, id])).toEqual(items);
    // A file from a writer that leaves them raw (valid JSON Lines) reads the same.
    writeFileSync(file, text.replaceAll('\\u2028', '\u2028').replaceAll('\\u2029', '\u2029'));
    expect(readFileSync(file, 'utf8')).toMatch(/\u2028/);
    expect(await cliJson(['import', `sqlite:${tmp.path('seps-raw.db')}`, file])).toMatchObject({ sessions: 2, written: 2 });
    expect(await cliJson(['show', `sqlite:${tmp.path('seps-raw.db')}`, id])).toEqual(items);
  });

  it('an item line without "item" is refused with its line number', async () => {
    const file = tmp.path('no-item.jsonl');
    const exported = await cli(['export', `sqlite:${tmp.path('seps.db')}`, 'after']);
    writeFileSync(file, exported.stdout.replace('"item":{"role":"user","content":"next"}', '"other":1'));
    const result = await cli(['import', `sqlite:${tmp.path('no-item-target.db')}`, file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/INVALID_ARGUMENT.*export file line 2: an item line without its "item"/);
  });

  it('show --json prints binary values in the export encoding, not as objects of indexes', async () => {
    const path = tmp.path('bytes.db');
    const store = new SqliteStore({ path });
    await store.addItems('b', [{ data: new Uint8Array([1, 2]), empty: new Uint8Array(0) }]);
    await store.close();
    expect(await cliJson(['show', `sqlite:${path}`, 'b'])).toEqual([{ data: { '$sk:bytes': 'AQI=' }, empty: { '$sk:bytes': '' } }]);
  });

  it('copy --verify reports a session it cannot read instead of losing the whole report', async () => {
    const path = tmp.path('corrupt-source.db');
    const store = new SqliteStore({ path });
    await store.addItems('good', sampleItems(1));
    await store.addItems('bad', sampleItems(2));
    await store.close();
    const db = new Database(path);
    db.prepare(
      `UPDATE sessionkit_items SET item = 'not json' WHERE sid = (SELECT sid FROM sessionkit_sessions WHERE session_id = 'bad')`,
    ).run();
    db.close();
    const result = await cli(['copy', `sqlite:${path}`, `sqlite:${tmp.path('corrupt-target.db')}`, '--verify', '--json', '--checkpoint', tmp.path('corrupt.checkpoint')]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.written).toBe(1);
    expect(report.failures).toEqual([expect.objectContaining({ sessionId: 'bad', code: 'CORRUPT_DATA' })]);
    expect(report.verify.differences).toEqual([]);
    expect(report.verify.failures).toEqual([expect.objectContaining({ sessionId: 'bad', code: 'CORRUPT_DATA' })]);
    const text = await cli(['copy', `sqlite:${path}`, `sqlite:${tmp.path('corrupt-target.db')}`, '--verify', '--checkpoint', tmp.path('corrupt2.checkpoint')]);
    expect(text.stdout).toMatch(/verify: 1 sessions compared, 0 differences, 1 unreadable/);
  });

  it('a copy between stores whose calls never wait (SQLite) still stops when its signal aborts', async () => {
    const source = new SqliteStore({ path: tmp.path('many.db') });
    for (let i = 0; i < 3000; i++) await source.addItems(`s-${i}`, [{ role: 'user', content: `m ${i}` }]);
    const target = new SqliteStore({ path: tmp.path('many-target.db') });
    const stop = new AbortController();
    // A timer: it fires only if the copy gives the event loop a turn.
    setTimeout(() => stop.abort(), 20);
    const report = await copySessions(source, target, { signal: stop.signal });
    expect(report.interrupted).toBe(true);
    expect(report.written).toBeGreaterThan(0);
    expect(report.written).toBeLessThan(3000);
    await source.close();
    await target.close();
  });

  it('masks a password holding an unencoded @, and leaves an @ after the authority alone', () => {
    expect(redact('redis://:top@secret@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(redact('redis://user:a@b@host:6379')).toBe('redis://user:***@host:6379');
    expect(redact('redis://127.0.0.1:6379/0?name=a@b')).toBe('redis://127.0.0.1:6379/0?name=a@b');
  });
});
