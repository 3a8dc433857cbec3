import { describe, expect, it } from 'vitest';
import { MemoryStore, SessionErrorCode, withAnalytics } from '@sessionkit/core';
import { estimateTokens, itemText, tiktokenTokenizer } from '@sessionkit/core/analytics';

// A known conversation; per-item counts are o200k_base token counts of each item's model-visible text (itemText).
const conversation = [
  { role: 'user', content: 'What is the weather in Paris?' },
  { type: 'function_call', callId: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
  { type: 'function_call_result', callId: 'c1', name: 'get_weather', status: 'completed', output: { type: 'text', text: '18C and sunny' } },
  { role: 'assistant', content: [{ type: 'output_text', text: 'It is 18C and sunny in Paris.' }] },
  { role: 'user', content: 'Special-looking text <|endoftext|> is just text.' },
];

describe('tiktokenTokenizer (js-tiktoken)', () => {
  it('counts exactly as OpenAI’s published examples', async () => {
    const cl100k = await tiktokenTokenizer('cl100k_base');
    expect(cl100k('tiktoken is great!')).toBe(6); // the tiktoken README / OpenAI cookbook example
    expect(cl100k('hello world')).toBe(2);
    const o200k = await tiktokenTokenizer();
    expect(o200k('What is the weather in Paris?')).toBe(7);
    expect(o200k('')).toBe(0);
  });

  it('gives withAnalytics exact token figures on a known conversation', async () => {
    const tokenizer = await tiktokenTokenizer('o200k_base');
    expect(conversation.map((item) => tokenizer(itemText(item)))).toEqual(PER_ITEM);
    const store = withAnalytics({ tokenizer })(new MemoryStore());
    await store.addItems('s', conversation);
    expect((await store.getAnalytics('s')).estimatedTokens).toBe(TOTAL);
    expect((await store.getAnalytics('s', { refresh: true })).estimatedTokens).toBe(TOTAL);
    expect(estimateTokens(conversation, tokenizer)).toBe(TOTAL);
    await store.popItem('s');
    expect((await store.getAnalytics('s')).estimatedTokens).toBe(TOTAL - PER_ITEM[4]!);
  });

  it('refuses an unknown encoding', async () => {
    await expect(tiktokenTokenizer('nope' as never)).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
  });
});

// Pinned from js-tiktoken 1.0.21 (o200k_base); the published examples above anchor the adapter itself.
const PER_ITEM = [7, 8, 7, 10, 14];
const TOTAL = PER_ITEM.reduce((a, b) => a + b, 0);
