/** The items a runner turn stores: shaped like the Agents SDK's messages, 200–450 bytes as JSON. */
export const item = (n: number) => ({
  type: 'message',
  role: n % 2 ? 'assistant' : 'user',
  content: [{ type: 'output_text', text: `message ${n} `.padEnd(140 + ((n * 97) % 250), 'lorem ipsum ') }],
});

/** `count` consecutive items starting at `from`. */
export const batch = (from: number, count: number) => Array.from({ length: count }, (_, k) => item(from + k));
