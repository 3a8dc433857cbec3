/**
 * Fixtures written exactly as the Python Agents SDK writes them:
 * SQLiteSession's DDL and `json.dumps(item)` (", " and ": " separators) from
 * src/agents/memory/sqlite_session.py, and RedisSession's hash, list and
 * counter keys with `json.dumps(item, separators=(",", ":"))` from
 * src/agents/extensions/memory/redis_session.py. Items are Responses API
 * input items as the Python SDK stores them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { redisServerAvailable, startRedis } from '@sessionkit/test-servers';
import { protocol } from '@openai/agents';
import { mapPythonItems } from '@sessionkit/cli';
import { cli, cliJson, tempDir } from './helpers.js';

/** Python's json.dumps default separators. */
const pyDumps = (value: unknown) => JSON.stringify(value).replace(/(?<!\\)":/g, '": ').replace(/,"/g, ', "');

const PYTHON_ITEMS = [
  { role: 'user', content: 'What is the weather in Paris?' },
  { role: 'system', content: 'Be brief.' },
  {
    id: 'rs_1',
    type: 'reasoning',
    summary: [{ type: 'summary_text', text: 'Need the weather tool.' }],
    encrypted_content: 'gAAAAB',
  },
  { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city": "Paris"}', status: 'completed' },
  { type: 'function_call_output', call_id: 'call_1', output: 'Sunny, 21C' },
  {
    type: 'message',
    id: 'msg_1',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: 'It is sunny in Paris.', annotations: [], logprobs: [] }],
  },
  {
    role: 'user',
    content: [
      { type: 'input_text', text: 'What is in this picture?' },
      { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'auto' },
      { type: 'input_image', file_id: 'file_123', detail: 'high' },
    ],
  },
  { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'part' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA' }] },
  { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'paris' } },
];

const TS_ITEMS = [
  { role: 'user', content: 'What is the weather in Paris?' },
  { role: 'system', content: 'Be brief.' },
  { type: 'reasoning', id: 'rs_1', content: [{ type: 'input_text', text: 'Need the weather tool.' }], providerData: { encrypted_content: 'gAAAAB' } },
  { type: 'function_call', id: 'fc_1', callId: 'call_1', name: 'get_weather', arguments: '{"city": "Paris"}', status: 'completed' },
  { type: 'function_call_result', name: 'get_weather', callId: 'call_1', status: 'completed', output: 'Sunny, 21C' },
  {
    type: 'message',
    id: 'msg_1',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: 'It is sunny in Paris.', providerData: { annotations: [], logprobs: [] } }],
  },
  {
    role: 'user',
    content: [
      { type: 'input_text', text: 'What is in this picture?' },
      { type: 'input_image', image: 'https://example.com/cat.png', detail: 'auto' },
      { type: 'input_image', image: { id: 'file_123' }, detail: 'high' },
    ],
  },
  {
    type: 'function_call_result',
    name: 'call_2',
    callId: 'call_2',
    status: 'completed',
    output: [{ type: 'input_text', text: 'part' }, { type: 'input_image', image: 'data:image/png;base64,AAAA' }],
  },
  { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'paris' } },
];

describe('Python Agents SDK item mapping', () => {
  it('maps messages, tool calls and outputs, reasoning and images to the TS SDK shapes', () => {
    const mapped = mapPythonItems(PYTHON_ITEMS);
    expect(mapped.items).toEqual(TS_ITEMS);
    expect(mapped.unmapped).toEqual({ web_search_call: 1 });
  });

  it('every mapped item is a valid TS SDK item, with no field lost to the SDK schema', () => {
    const mapped = mapPythonItems(PYTHON_ITEMS).items.filter((item) => item.type !== 'web_search_call');
    for (const item of mapped) expect(protocol.ModelItem.parse(item)).toEqual(item);
  });

  it('maps an assistant message given in the short form', () => {
    expect(mapPythonItems([{ role: 'assistant', content: 'hi' }]).items).toEqual([
      { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi' }] },
    ]);
  });
});

describe('import --from python-sqlite', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  function pythonDb(path: string, sessions = 'agent_sessions', messages = 'agent_messages') {
    const db = new Database(path);
    // SQLiteSession._create_schema_for_connection, verbatim.
    db.exec(`
            CREATE TABLE IF NOT EXISTS ${sessions} (
                session_id TEXT PRIMARY KEY,
                created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
                updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
            )
        `);
    db.exec(`
            CREATE TABLE IF NOT EXISTS ${messages} (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session_id TEXT NOT NULL,
                message_data TEXT NOT NULL,
                created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
                FOREIGN KEY (session_id) REFERENCES ${sessions} (session_id)
                    ON DELETE CASCADE
            )
        `);
    db.exec(`
            CREATE INDEX IF NOT EXISTS idx_${messages}_session_id
            ON ${messages} (session_id, id)
        `);
    // SQLiteSession._insert_items, interleaving two sessions as concurrent runs would.
    const add = (id: string, items: unknown[]) => {
      db.prepare(`INSERT OR IGNORE INTO ${sessions} (session_id) VALUES (?)`).run(id);
      const insert = db.prepare(`INSERT INTO ${messages} (session_id, message_data) VALUES (?, ?)`);
      for (const item of items) insert.run(id, pyDumps(item));
      db.prepare(`UPDATE ${sessions} SET updated_at = CURRENT_TIMESTAMP WHERE session_id = ?`).run(id);
    };
    add('conv-a', PYTHON_ITEMS.slice(0, 4));
    add('conv-b', [{ role: 'user', content: 'hello' }]);
    add('conv-a', PYTHON_ITEMS.slice(4));
    return db;
  }

  it('imports every session in order with mapped items, idempotently', async () => {
    const py = tmp.path('agents.db');
    pythonDb(py).close();
    const target = `sqlite:${tmp.path('ts.db')}`;
    const first = await cliJson(['import', target, '--from', 'python-sqlite', py]);
    expect(first).toMatchObject({ sessions: 2, written: 2, items: TS_ITEMS.length + 1, unmappedTypes: { web_search_call: 1 } });
    expect(await cliJson(['show', target, 'conv-a'])).toEqual(TS_ITEMS);
    expect(await cliJson(['show', target, 'conv-b'])).toEqual([{ role: 'user', content: 'hello' }]);
    const again = await cliJson(['import', target, '--from', 'python-sqlite', py]);
    expect(again).toMatchObject({ sessions: 2, written: 0, unchanged: 2 });
    expect((await cliJson(['ls', target])).sessions.map((s: { itemCount: number }) => s.itemCount).sort()).toEqual([1, TS_ITEMS.length]);
  });

  it('reads custom table names and reports corrupt rows instead of skipping them silently', async () => {
    const py = tmp.path('custom.db');
    const db = pythonDb(py, 'my_sessions', 'my_messages');
    db.prepare('INSERT INTO my_messages (session_id, message_data) VALUES (?, ?)').run('conv-b', '{"role": "user", "content": "cut');
    db.close();
    const target = `sqlite:${tmp.path('ts2.db')}`;
    const result = await cli(['import', target, '--from', 'python-sqlite', py, '--sessions-table', 'my_sessions', '--messages-table', 'my_messages', '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.corruptSourceItems).toEqual([{ sessionId: 'conv-b', positions: [1] }]);
    expect(await cliJson(['show', target, 'conv-a'])).toEqual(TS_ITEMS);
    const bad = await cli(['import', target, '--from', 'python-sqlite', py, '--messages-table', 'x; DROP TABLE y']);
    expect(bad.code).toBe(2);
  });
});

const haveRedis = redisServerAvailable();
if (!haveRedis) console.warn('!!! SKIPPED import --from python-redis: no redis-server on PATH (apt-get install -y redis-server)');

describe.skipIf(!haveRedis)('import --from python-redis', () => {
  const tmp = tempDir();
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    tmp.remove();
  });

  it('reads RedisSession keys (default and custom prefix) and maps the items', async () => {
    const client = new Redis(redis.url);
    // RedisSession._write_items_attempt: hset session_id, hsetnx created_at, rpush messages, hset updated_at.
    const write = async (prefix: string, id: string, items: unknown[]) => {
      const key = `${prefix}:${id}`;
      const now = String(Math.floor(Date.now() / 1000));
      await client
        .multi()
        .hset(key, 'session_id', id)
        .hsetnx(key, 'created_at', now)
        .rpush(`${key}:messages`, ...items.map((item) => JSON.stringify(item)))
        .hset(key, 'updated_at', now)
        .exec();
      await client.incr(`${key}:counter`);
    };
    await write('agents:session', 'conv-a', PYTHON_ITEMS);
    await write('agents:session', 'user:42', [{ role: 'user', content: 'colon in id' }]);
    await write('myapp', 'other', [{ role: 'user', content: 'custom prefix' }]);
    await client.quit();

    const target = `sqlite:${tmp.path('fromredis.db')}`;
    const report = await cliJson(['import', target, '--from', 'python-redis', redis.url]);
    expect(report).toMatchObject({ sessions: 2, written: 2 });
    expect(await cliJson(['show', target, 'conv-a'])).toEqual(TS_ITEMS);
    expect(await cliJson(['show', target, 'user:42'])).toEqual([{ role: 'user', content: 'colon in id' }]);
    expect(await cliJson(['import', target, '--from', 'python-redis', redis.url])).toMatchObject({ unchanged: 2, written: 0 });
    expect(await cliJson(['import', target, '--from', 'python-redis', redis.url, '--key-prefix', 'myapp'])).toMatchObject({ sessions: 1, written: 1 });
  });
});
