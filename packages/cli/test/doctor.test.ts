import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { compose, withEncryption } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { cli, cliJson, sampleItems, tempDir } from './helpers.js';

describe('doctor', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('reports injected corrupt items by session and position, and changes nothing', async () => {
    const path = tmp.path('corrupt.db');
    const store = new SqliteStore({ path });
    for (let i = 0; i < 5; i++) await store.addItems(`s-${i}`, sampleItems(i));
    await store.close();
    const db = new Database(path);
    const corrupt = (session: string, seqIndex: number, text: string) =>
      db
        .prepare(
          `UPDATE sessionkit_items SET item = ? WHERE sid = (SELECT sid FROM sessionkit_sessions WHERE session_id = ?)
           AND seq = (SELECT seq FROM sessionkit_items WHERE sid = (SELECT sid FROM sessionkit_sessions WHERE session_id = ?) ORDER BY seq LIMIT 1 OFFSET ?)`,
        )
        .run(text, session, session, seqIndex);
    corrupt('s-1', 4, '{"role": "assistant", truncated');
    corrupt('s-3', 0, 'not json at all');
    const before = db.prepare('SELECT sid, seq, item FROM sessionkit_items ORDER BY sid, seq').all();
    db.close();

    const report = await cli(['doctor', `sqlite:${path}`, '--json']);
    expect(report.code).toBe(1);
    const parsed = JSON.parse(report.stdout);
    expect(parsed.sessions).toBe(5);
    expect(parsed.problems).toEqual([
      expect.objectContaining({ sessionId: 's-1', position: 4, itemCount: 6, code: 'CORRUPT_DATA' }),
      expect.objectContaining({ sessionId: 's-3', position: 0, itemCount: 6, code: 'CORRUPT_DATA' }),
    ]);
    const text = await cli(['doctor', `sqlite:${path}`]);
    expect(text.stdout).toMatch(/s-1: item at position 4 of 6 — \[CORRUPT_DATA\]/);

    const after = new Database(path, { readonly: true });
    expect(after.prepare('SELECT sid, seq, item FROM sessionkit_items ORDER BY sid, seq').all()).toEqual(before);
    after.close();
  });

  it('reports items that fail to decrypt, and rekey moves everything to the new primary key', async () => {
    const path = tmp.path('enc.db');
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const ring1 = { primary: 'k1', keys: { k1: k1.toString('base64') } };
    const ring2 = { primary: 'k2', keys: { k1: k1.toString('base64'), k2: k2.toString('base64') } };
    const store = compose(new SqliteStore({ path }), withEncryption({ primary: 'k1', keys: { k1: new Uint8Array(k1) } }));
    for (let i = 0; i < 3; i++) await store.addItems(`e-${i}`, sampleItems(i));
    await store.close();

    // Key only from the environment or a file.
    const file = tmp.path('keys.json');
    writeFileSync(file, JSON.stringify(ring2));
    expect(await cliJson(['doctor', `sqlite:${path}`], { SESSIONKIT_KEYRING: JSON.stringify(ring1) })).toMatchObject({ problems: [] });
    const rekey = await cliJson(['rekey', `sqlite:${path}`], { SESSIONKIT_KEYRING_FILE: file });
    expect(rekey).toMatchObject({ sessions: 3, itemsReencrypted: 18, failures: [] });
    // Now k1 alone cannot read: doctor says DECRYPTION_FAILED at the newest item.
    const stale = await cli(['doctor', `sqlite:${path}`, '--json'], { SESSIONKIT_KEYRING: JSON.stringify(ring1) });
    expect(stale.code).toBe(1);
    expect(JSON.parse(stale.stdout).problems).toHaveLength(3);
    expect(JSON.parse(stale.stdout).problems[0]).toMatchObject({ code: 'DECRYPTION_FAILED', position: 5 });
    // k2 alone reads everything.
    const only2 = { primary: 'k2', keys: { k2: k2.toString('base64') } };
    expect(await cliJson(['show', `sqlite:${path}`, 'e-2'], { SESSIONKIT_KEYRING: JSON.stringify(only2) })).toEqual(sampleItems(2));
    // Without a key ring doctor cannot decrypt, and says so.
    expect(await cliJson(['doctor', `sqlite:${path}`])).toMatchObject({ problems: [], encryptedSessionsNotChecked: 3 });
    // Without a key ring the store is opened as it is: only envelopes show, never plaintext.
    const noKeys = await cli(['show', `sqlite:${path}`, 'e-2', '--json']);
    expect(noKeys.code).toBe(0);
    expect(noKeys.stdout).toContain('$sk:enc');
    expect(noKeys.stdout).not.toContain('question 2');
    // A key ring that is not JSON: usage error, and the text is never echoed.
    const bad = await cli(['show', `sqlite:${path}`, 'e-2'], { SESSIONKIT_KEYRING: 'secret-not-json' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain('secret-not-json');
  });
});
