import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  MemoryStore,
  SessionErrorCode,
  compose,
  withCompaction,
} from '@sessionkit/core';
import { openAICompactSummarizer, toResponsesInput, type OpenAICompactClient } from '@sessionkit/core/compaction';

// A client stub with the shape of the openai package's `responses.compact`
// (the store underneath is a real MemoryStore).
function fakeClient() {
  const requests: { body: any; options: any }[] = [];
  const client: OpenAICompactClient = {
    responses: {
      async compact(body, options) {
        requests.push({ body: structuredClone(body), options });
        const input = body.input as any[];
        const users = input.filter((item: any) => item.type === 'message' && item.role === 'user');
        return {
          id: 'cmp_1',
          object: 'response.compaction',
          output: [
            ...users.map((item: any, n: number) => ({ ...item, id: `msg_${n}`, status: 'completed' })),
            { type: 'compaction', id: 'cmp_item', encrypted_content: `enc:${input.length}` },
          ],
          usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 },
        };
      },
    },
  };
  return { client, requests };
}

const user = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
const assistant = (text: string) => ({
  type: 'message',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text }],
});

describe('openAICompactSummarizer', () => {
  it('validates its options', () => {
    expect(() => openAICompactSummarizer({ openai: {} as any, model: 'gpt-5.4-mini' })).toThrow(
      expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
    );
    expect(() => openAICompactSummarizer({ openai: fakeClient().client, model: '' })).toThrow(/model/);
    expect(() => openAICompactSummarizer({ openai: fakeClient().client, model: 'm', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('sends the older items as Responses input and swaps them for its output in one transaction', async () => {
    const { client, requests } = fakeClient();
    const memory = new MemoryStore();
    const transactions: string[] = [];
    const spy = memory.applyHistoryTransaction.bind(memory);
    memory.applyHistoryTransaction = async (id, args, options) => {
      transactions.push(args.transaction.type);
      return spy(id, args, options);
    };
    const store = compose(
      memory,
      withCompaction({ maxItems: 5, keepLast: 2, inline: true, summarize: openAICompactSummarizer({ openai: client, model: 'gpt-5.4-mini', instructions: 'be brief' }) }),
    );
    const call = { type: 'function_call', callId: 'c1', name: 'lookup', arguments: '{}', status: 'completed', providerData: { x: 1 } };
    const result = { type: 'function_call_result', callId: 'c1', name: 'lookup', status: 'completed', output: { type: 'text', text: 'ok' } };
    await store.addItems('s', [user('hi'), call, result, assistant('a1'), user('again'), assistant('a2')]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.body).toEqual({
      model: 'gpt-5.4-mini',
      instructions: 'be brief',
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
        { type: 'function_call', call_id: 'c1', name: 'lookup', arguments: '{}', status: 'completed' },
        { type: 'function_call_output', call_id: 'c1', output: 'ok', status: 'completed' },
        { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'a1' }] },
      ],
    });
    expect(transactions).toEqual(['replace_suffix']);
    expect(await store.getItems('s')).toEqual([
      { id: 'msg_0', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
      { type: 'compaction', id: 'cmp_item', encrypted_content: 'enc:4' },
      user('again'),
      assistant('a2'),
    ]);
  });

  // The real client (the openai package, a devDependency of core only): `new OpenAI()` must be assignable to
  // OpenAICompactClient (`pnpm typecheck` checks this file; it once was not: TS2322 on `input`), and the request
  // it sends is the compact endpoint's. Its fetch answers here, so no network is involved.
  it('takes a real OpenAI client: it posts model, input and instructions to /responses/compact', async () => {
    const posted: { url: string; method: string; body: any }[] = [];
    const openai = new OpenAI({
      apiKey: 'sk-test',
      maxRetries: 0,
      fetch: async (url, init) => {
        posted.push({ url: String(url), method: String(init?.method), body: JSON.parse(String(init?.body)) });
        const output = [{ type: 'compaction', id: 'cmp_real', encrypted_content: 'enc' }];
        return new Response(JSON.stringify({ id: 'cmp_1', object: 'response.compaction', created_at: 0, output, usage: {} }), {
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    const summarize = openAICompactSummarizer({ openai, model: 'gpt-5.4-mini', instructions: 'be brief', timeoutMs: 5_000 });
    const store = compose(new MemoryStore(), withCompaction({ maxItems: 2, keepLast: 1, inline: true, summarize }));
    await store.addItems('s', [user('1'), user('2'), user('3')]);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.url).toMatch(/\/responses\/compact$/);
    expect(posted[0]!.method).toBe('POST');
    expect(posted[0]!.body).toEqual({
      model: 'gpt-5.4-mini',
      instructions: 'be brief',
      input: [user('1'), user('2')],
    });
    expect(await store.getItems('s')).toEqual([{ type: 'compaction', id: 'cmp_real', encrypted_content: 'enc' }, user('3')]);
  });

  it('a failing endpoint leaves the history as it was and reports the summarize phase', async () => {
    const errors: string[] = [];
    const failing: OpenAICompactClient = { responses: { compact: async () => Promise.reject(new Error('503')) } };
    const store = compose(
      new MemoryStore(),
      withCompaction({
        maxItems: 2,
        keepLast: 1,
        inline: true,
        summarize: openAICompactSummarizer({ openai: failing, model: 'gpt-5.4-mini' }),
        onError: (_e, { phase }) => errors.push(phase),
      }),
    );
    await store.addItems('s', [user('1'), user('2'), user('3')]);
    expect(errors).toEqual(['summarize']);
    expect(await store.getItems('s')).toEqual([user('1'), user('2'), user('3')]);
  });

  it('converts reasoning, compaction and images to Responses input', () => {
    expect(
      toResponsesInput([
        { type: 'reasoning', id: 'r1', content: [{ type: 'input_text', text: 'think' }], providerData: { encryptedContent: 'e' } },
        { type: 'compaction', id: 'c', encrypted_content: 'x', providerData: {} },
        { role: 'user', content: [{ type: 'input_image', image: 'https://x/y.png' }] },
        { role: 'user', content: 'plain' },
      ]),
    ).toEqual([
      { type: 'reasoning', id: 'r1', summary: [{ type: 'summary_text', text: 'think' }], encrypted_content: 'e' },
      { type: 'compaction', id: 'c', encrypted_content: 'x' },
      { type: 'message', role: 'user', content: [{ type: 'input_image', detail: 'auto', image_url: 'https://x/y.png' }] },
      { type: 'message', role: 'user', content: 'plain' },
    ]);
  });
});

describe('withCompaction and replaceHistory', () => {
  it('carries replaceHistory when the inner store has it, and a replacement triggers no compaction', async () => {
    let summarized = 0;
    const store = compose(
      new MemoryStore(),
      withCompaction({ maxItems: 2, keepLast: 1, inline: true, summarize: async (items) => (summarized++, [{ role: 'system', content: `s${items.length}` }]) }),
    );
    expect(store.capabilities.replaceHistory).toBe(true);
    const session = store.session('s');
    expect(typeof session.replaceHistoryWithCompaction).toBe('function');
    await session.replaceHistoryWithCompaction!([user('1'), user('2'), user('3'), user('4')]);
    expect(summarized).toBe(0);
    expect(await store.getItems('s')).toEqual([user('1'), user('2'), user('3'), user('4')]);
    // The next write checks the threshold as usual.
    await store.addItems('s', [user('5')]);
    expect(summarized).toBe(1);
    expect(await store.getItems('s')).toEqual([{ role: 'system', content: 's4' }, user('5')]);
  });

  it('a compaction racing a replacement conflicts and re-reads: the replacement is never overwritten by a stale summary', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: number[] = [];
    const store = compose(
      new MemoryStore(),
      withCompaction({
        maxItems: 3,
        keepLast: 1,
        summarize: async (items) => {
          seen.push(items.length);
          if (seen.length === 1) await gate;
          return [{ role: 'system', content: `summary of ${items.map((i: any) => i.content[0].text).join(',')}` }];
        },
      }),
    );
    await store.addItems('s', [user('1'), user('2'), user('3'), user('4')]);
    await new Promise((r) => setTimeout(r, 5));
    await store.replaceHistory!('s', [user('A'), user('B')]);
    release();
    await store.idle();
    // The replaced history is under the threshold: the retry finds nothing to do.
    expect(await store.getItems('s')).toEqual([user('A'), user('B')]);
  });

  it('drops replaceHistory when the inner store lacks it', async () => {
    const { ForwardingStore } = await import('@sessionkit/core/adapter');
    const store = compose(new ForwardingStore(new MemoryStore(), ['replaceHistory']), withCompaction({ maxItems: 3, keepLast: 1, summarize: async () => [] }));
    expect(store.capabilities.replaceHistory).toBe(false);
    expect(store.session('s').replaceHistoryWithCompaction).toBeUndefined();
  });
});
