import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, run } from '@openai/agents';
import { OpenAIResponsesCompactionSession } from '@openai/agents-openai';
import { SqliteStore } from '@sessionkit/sqlite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalModel } from '../local-model.js';

// The Agents SDK's own compaction wrapper, OpenAIResponsesCompactionSession,
// around a sessionkit session: it works, and it replaces the history by
// clearSession() then addItems() on the session it wraps — two writes, with
// an empty history between them. withCompaction(openAICompactSummarizer)
// gets the same endpoint with one atomic replacement (docs/agents-sdk.md).

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Stands in for the `openai` client: answers `responses.compact` from the items it is sent, locally. */
function fakeOpenAI() {
  const requests: any[] = [];
  const client = {
    responses: {
      compact: async (request: any) => {
        requests.push(structuredClone(request));
        const input = request.input as any[];
        const users = input.filter((item) => item.role === 'user');
        return {
          // What the endpoint returns: the user's messages kept, the rest folded into one opaque compaction item.
          output: [
            ...users.map((item) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text: String(item.content) }] })),
            { type: 'compaction', encrypted_content: `compacted ${input.length} items` },
          ],
          usage: { input_tokens: 10, output_tokens: 2, total_tokens: 12 },
        };
      },
    },
  };
  return { client, requests };
}

describe('OpenAIResponsesCompactionSession wrapping a sessionkit session', () => {
  it('compacts the stored history through responses.compact (clear, then add) and the compacted history survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessionkit-compaction-session-'));
    dirs.push(dir);
    const path = join(dir, 'conversations.db');
    const store = new SqliteStore({ path });
    const underlying = store.session('user-1');
    const replace = vi.spyOn(underlying, 'replaceHistoryWithCompaction');
    // What another reader sees right after the wrapper's clearSession(), before its addItems().
    const seenBetweenClearAndAdd: unknown[][] = [];
    const clear = underlying.clearSession.bind(underlying);
    vi.spyOn(underlying, 'clearSession').mockImplementation(async (...args) => {
      await clear(...args);
      seenBetweenClearAndAdd.push(await store.getItems('user-1'));
    });
    const { client, requests } = fakeOpenAI();
    const session = new OpenAIResponsesCompactionSession({
      client: client as never,
      underlyingSession: underlying,
      compactionMode: 'input',
      // Compact once the history holds three answers.
      shouldTriggerCompaction: ({ compactionCandidateItems }) => compactionCandidateItems.length >= 3,
    });
    const model = new LocalModel();
    const agent = new Agent({ name: 'Assistant', model });

    await run(agent, "Hello, I'm John", { session });
    await run(agent, 'How are you?', { session });
    expect(requests).toHaveLength(0);
    const history = await store.getItems('user-1');
    expect(history).toHaveLength(4);

    // The third answer makes three: after persisting the turn the runner asks
    // the wrapper to compact; it sends the stored history to responses.compact.
    await run(agent, "What's my name?", { session });
    expect(requests).toHaveLength(1);
    expect(requests[0].input).toHaveLength(6);
    const user = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
    const compacted = [
      user("Hello, I'm John"),
      user('How are you?'),
      user("What's my name?"),
      { type: 'compaction', encrypted_content: 'compacted 6 items' },
    ];
    expect(await store.getItems('user-1')).toEqual(compacted);

    // How it replaced the history: clearSession() then addItems() on the
    // sessionkit session, never its atomic replaceHistoryWithCompaction. In
    // between, any other reader of the session saw an empty conversation;
    // a crash there would have left it empty.
    expect(replace).not.toHaveBeenCalled();
    expect(seenBetweenClearAndAdd).toEqual([[]]);
    await store.close();

    // Restart: the compacted history is what a new process reads and sends on.
    const reopened = new SqliteStore({ path });
    expect(await reopened.getItems('user-1')).toEqual(compacted);
    const resumed = new OpenAIResponsesCompactionSession({
      client: client as never,
      underlyingSession: reopened.session('user-1'),
      compactionMode: 'input',
      shouldTriggerCompaction: () => false,
    });
    await run(agent, 'Thanks!', { session: resumed });
    // The runner sends the stored history from its latest compaction item on.
    expect(model.requests.at(-1)!.input).toEqual([compacted[3], { type: 'message', role: 'user', content: 'Thanks!' }]);
    expect(await reopened.getItems('user-1')).toEqual([
      ...compacted,
      { type: 'message', role: 'user', content: 'Thanks!' },
      { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'You said: Thanks!' }] },
    ]);
    await reopened.close();
  });
});
