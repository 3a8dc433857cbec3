import assert from 'node:assert/strict';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory } from '../checks.js';

/** Items as the Agents SDK writes them (AgentInputItem shapes). */
export const SDK_ITEMS: readonly unknown[] = [
  { role: 'user', content: 'Hello, I am John' },
  { role: 'system', content: 'Be brief.' },
  {
    type: 'message',
    role: 'assistant',
    id: 'msg_1',
    status: 'completed',
    content: [{ type: 'output_text', text: 'Hi John!', annotations: [] }],
    providerData: { model: 'local' },
  },
  { type: 'function_call', callId: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed', id: 'fc_1' },
  { type: 'function_call_result', callId: 'call_1', name: 'get_weather', status: 'completed', output: { type: 'text', text: '22°C' } },
  { type: 'reasoning', id: 'rs_1', content: [{ type: 'input_text', text: 'thinking' }], rawContent: [] },
  {
    role: 'user',
    content: [
      { type: 'input_text', text: 'What is in this image?' },
      { type: 'input_image', image: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' },
    ],
  },
];

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? { d: value } : [value];
  return value;
}

export const fidelityTests: ConformanceTest[] = [
  {
    id: 'fidelity.sdk-items',
    level: 'MUST',
    title: 'Agents SDK items (messages, tool calls and results, reasoning, images) read back exactly',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', SDK_ITEMS);
      await assertHistory(store, 's', SDK_ITEMS);
    },
  },
  {
    id: 'fidelity.json-values',
    level: 'MUST',
    title: 'every JSON value kind, key order, empty containers and special keys read back exactly',
    async run(ctx) {
      const store = await ctx.create();
      const special = JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1}');
      const items: unknown[] = [
        null, true, false, 0, 1, -1, 'plain', '', [], {}, [[]], [{}],
        { b: 1, a: 2, c: { z: 0, y: [3, 2, 1] } },
        { '': 'empty key', ' ': 'space key', 'with.dot': 1, $dollar: 2, 'with\u0000nul': 3, '{tag}': 4 },
        special,
        { nested: null, list: [null, 0, '', false] },
      ];
      await store.addItems('s', items);
      const read = await store.getItems('s');
      assert.deepEqual(read, items);
      assert.deepEqual(Object.keys(read[12] as object), ['b', 'a', 'c'], 'key order is preserved');
      assert.equal(Object.prototype.hasOwnProperty.call(read[14], '__proto__'), true, '__proto__ stays an own key');
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    },
  },
  {
    id: 'fidelity.numbers',
    level: 'MUST',
    title: 'number edge cases read back exactly (safe integers, subnormals, extremes, fractions)',
    async run(ctx) {
      const store = await ctx.create();
      const numbers = [
        Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE,
        Number.EPSILON, 0.1, 0.1 + 0.2, 1e21, 1e-7, 123456789.123456789, -0.000001, 2 ** 53 + 2, 5e-324,
      ];
      await store.addItems('s', [{ numbers }, ...numbers]);
      const read = await store.getItems('s');
      assert.deepEqual(read, [{ numbers }, ...numbers]);
      for (let i = 0; i < numbers.length; i++) assert.ok(Object.is(read[i + 1], numbers[i]), `number ${numbers[i]}`);
    },
  },
  {
    id: 'fidelity.unicode',
    level: 'MUST',
    title: 'strings read back code unit for code unit: emoji, combining marks unnormalised, RTL, control characters, lone surrogates',
    async run(ctx) {
      const store = await ctx.create();
      const strings = [
        '😀👩‍👩‍👧‍👦🏳️‍🌈', 'e\u0301 vs \u00e9', 'ﬁ ligature', 'עברית العربية', '日本語 中文 한국어', '\u0000\u0001\u001f\u007f',
        'line\nbreak\r\n\ttab', '"quotes" \\backslash\\ \'single\'', '\u2028\u2029', 'lone \ud800 high', 'lone \udfff low',
        '\ufeffBOM', '\u{10ffff}', '$sk:bytes', '{"$sk:bytes":"AA=="}',
      ];
      const items = strings.map((text) => ({ role: 'user', content: text, [text]: text }));
      await store.addItems('s', items);
      const read = (await store.getItems('s')) as Array<{ content: string }>;
      assert.equal(read.length, strings.length);
      for (let i = 0; i < strings.length; i++) {
        assert.equal(read[i]!.content, strings[i], `string ${i} changed`);
        assert.deepEqual(read[i], items[i]);
      }
    },
  },
  {
    id: 'fidelity.bytes',
    level: 'MUST',
    title: 'Uint8Array values (image and file bytes) read back as Uint8Array with the same bytes',
    async run(ctx) {
      const store = await ctx.create();
      const bytes = new Uint8Array(256).map((_, i) => i);
      await store.addItems('s', [{ type: 'input_file', data: bytes, empty: new Uint8Array(0) }]);
      const [item] = (await store.getItems('s')) as Array<{ data: Uint8Array; empty: Uint8Array }>;
      assert.ok(item!.data instanceof Uint8Array, 'reads back as Uint8Array');
      assert.deepEqual([...item!.data], [...bytes]);
      assert.equal(item!.empty.length, 0);
    },
  },
  {
    id: 'fidelity.undefined-properties',
    level: 'MUST',
    title: 'object properties whose value is undefined are dropped, as JSON does',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [{ role: 'user', content: 'x', providerData: undefined }]);
      const [item] = await store.getItems('s');
      assert.deepEqual(Object.keys(item as object), ['role', 'content']);
    },
  },
  {
    id: 'fidelity.large-items',
    level: 'MUST',
    title: 'a 1 MB item, and a batch of several large items, read back exactly',
    timeout: 60_000,
    async run(ctx) {
      const store = await ctx.create();
      const big = { role: 'user', content: 'x'.repeat(1024 * 1024 - 64) + '😀é' };
      await store.addItems('s', [big]);
      await store.addItems('s', [0, 1, 2].map((i) => ({ role: 'tool', content: String(i).repeat(200 * 1024) })));
      const read = (await store.getItems('s')) as Array<{ content: string }>;
      assert.equal(read.length, 4);
      assert.equal(read[0]!.content, big.content, '1 MB item changed');
      assert.equal(read[3]!.content, '2'.repeat(200 * 1024));
      assert.deepEqual(await store.getItems('s', { limit: 1 }), [read[3]]);
    },
  },
  {
    id: 'fidelity.deep-nesting',
    level: 'MUST',
    title: 'items nested 500 levels deep read back exactly',
    async run(ctx) {
      const store = await ctx.create();
      const deep = nested(500);
      await store.addItems('s', [{ role: 'user', content: deep }]);
      await assertHistory(store, 's', [{ role: 'user', content: deep }]);
    },
  },
];
