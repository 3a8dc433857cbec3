import Database from 'better-sqlite3';
import { SqliteStore } from '@sessionkit/sqlite';
import { tableNames } from '../src/schema.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementSql } from '../src/statements.js';
import { tempDir } from './setup.js';

// getItems(limit) must cost O(limit), not O(history): proven on the query
// plans of the statements the store really runs, never with a timer.

const temp = tempDir('plan');
afterAll(() => temp.remove());

function planOf(db: Database.Database, sql: string): string[] {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array(sql.split('?').length - 1).fill(1)) as { detail: string }[];
  return rows.map((r) => r.detail);
}

const sql = statementSql(tableNames('sessionkit_'));

// Planned twice: as the store leaves the file (no statistics), and after
// ANALYZE, whose statistics could otherwise tempt the planner into a scan.
describe.each([
  ['without statistics', false],
  ['after ANALYZE', true],
])('query plans %s', (_label, analyze) => {
  let db: Database.Database;
  beforeAll(async () => {
    const path = temp.file();
    const store = new SqliteStore({ path });
    for (let b = 0; b < 20; b++) await store.addItems('big', Array.from({ length: 100 }, (_, i) => ({ n: b * 100 + i })));
    for (let s = 0; s < 50; s++) await store.addItems(`other${s}`, [{ n: s }]);
    await store.close();
    db = new Database(path);
    if (analyze) db.exec('ANALYZE');
  });
  afterAll(() => db.close());

  it('the tail read walks the (sid, seq) index backwards: no scan, no sort', () => {
    const plan = planOf(db, sql.tail);
    expect(plan.join('\n')).toMatch(/SEARCH sessionkit_items USING INDEX sessionkit_items_by_session \(sid=\?\)/);
    expect(plan.join('\n')).toMatch(/SEARCH sessionkit_sessions USING INDEX sessionkit_sessions_by_id \(session_id=\?\)/);
    expect(plan.join('\n')).not.toMatch(/SCAN|TEMP B-TREE/);
  });

  it('every keyed statement uses an index, and none sorts in a temp b-tree', () => {
    const keyed = ['version', 'all', 'newest', 'newestOne', 'findSession', 'info', 'findOperation', 'deleteItemsFrom', 'deleteItems', 'trimOperations', 'deleteOperations', 'staleSessions', 'listPage'] as const;
    for (const name of keyed) {
      const plan = planOf(db, sql[name]).join('\n');
      expect(plan, name).not.toMatch(/TEMP B-TREE/);
      expect(plan, name).not.toMatch(/^SCAN (?!.*USING)/m);
      expect(plan, name).toMatch(/USING (COVERING )?INDEX|USING PRIMARY KEY|USING INTEGER PRIMARY KEY/);
    }
  });

  it('reads the newest rows first, so LIMIT stops the walk after `limit` rows', () => {
    // The same statement against the data: the first rows out are the newest.
    const sid = db.prepare('SELECT sid FROM sessionkit_sessions WHERE session_id = ?').pluck().get('big');
    const rows = db.prepare(sql.newest).all(sid, 3) as { item: string }[];
    expect(rows.map((r) => JSON.parse(r.item).n)).toEqual([1999, 1998, 1997]);
  });
});
