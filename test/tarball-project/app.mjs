// One turn of an Agents SDK app per process: `node app.mjs <db> "<what the user says>"`.
// Run it twice: the second process answers from the history the first one stored (SQLite, encrypted, cached).
// Plain JavaScript with try/finally, not `await using`: it must run on Node 22 too.
import { Agent, run, setTracingDisabled, Usage } from '@openai/agents';
import { compose, withCache, withEncryption } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';

// A local model: it answers only from the input the runner gives it, so a remembered name came from the session.
class LocalModel {
  async getResponse(request) {
    const input = typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input;
    const text = (item) => (typeof item.content === 'string' ? item.content : (item.content ?? []).map((p) => p.text ?? '').join(''));
    const name = (item) => /I'm ([A-Z]\w+)/.exec(text(item))?.[1];
    const said = text(input.at(-1));
    const known = input.filter((item) => item.role === 'user').map(name).find(Boolean);
    const reply = /what'?s my name/i.test(said) ? (known ? `Your name is ${known}.` : 'I do not know your name.') : `Nice to meet you, ${name(input.at(-1))}!`;
    return {
      usage: new Usage(),
      output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply }] }],
      responseId: `local-${Date.now()}`,
    };
  }
  async *getStreamedResponse() {
    throw new Error('not used');
  }
}

setTracingDisabled(true);
const [path, say] = process.argv.slice(2);
const store = compose(
  new SqliteStore({ path }),
  withEncryption({ keys: { k1: new Uint8Array(32).fill(7) }, primary: 'k1' }),
  withCache({ maxSessions: 100 }),
);
try {
  const session = store.session('user-123');
  const before = (await session.getItems()).length;
  const agent = new Agent({ name: 'Assistant', instructions: 'Remember the user.', model: new LocalModel() });
  const result = await run(agent, say, { session });
  console.log(JSON.stringify({ before, after: (await session.getItems()).length, reply: result.finalOutput }));
} finally {
  await store.close();
}
