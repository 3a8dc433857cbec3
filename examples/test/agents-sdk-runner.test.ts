import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Agent,
  OutputGuardrailTripwireTriggered,
  RunState,
  Usage,
  isSessionHistoryRewriteAwareSession,
  run,
  tool,
  type Model,
  type ModelRequest,
  type ModelResponse,
} from '@openai/agents';
import { compose, generateKey, withCache, withEncryption, withMonitoring, type BindableStore, type HistoryTransactionArgs } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { LocalModel } from '../local-model.js';

// The real run() of @openai/agents 0.20.0 on sessionkit sessions, through
// every path where the runner writes to a session: ordinary turns, streamed
// turns, sessionInputCallback, a blocked output (applyHistoryTransaction),
// a compaction turn (replaceHistoryWithCompaction) and an app's history
// rewrite (applyHistoryMutations). Each on a SQLite file and on a decorated
// stack over one, and each checked against what the store holds after a
// restart (a new store on the same file).

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const key = await generateKey();

/** A fresh SQLite file and a way to open it (again, after a "restart"). */
const stacks: Array<[string, (path: string) => BindableStore]> = [
  ['SqliteStore', (path) => new SqliteStore({ path })],
  [
    'SqliteStore + encryption + monitoring + cache',
    (path) =>
      compose(
        new SqliteStore({ path }),
        withEncryption({ keys: { k1: key }, primary: 'k1' }),
        withMonitoring({}),
        withCache({}),
      ),
  ],
];

function freshPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-runner-'));
  dirs.push(dir);
  return join(dir, 'conversations.db');
}

const getWeather = tool({
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

const types = (items: any[]) => items.map((item) => item.type ?? 'message');

function assistant(text: string) {
  return { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] };
}

/**
 * A model that compacts when asked: to "/compact" it answers with a
 * `compaction` item (what the Responses API returns when it compacts the
 * context server-side) and a message; otherwise it echoes.
 */
class CompactingModel implements Model {
  readonly requests: ModelRequest[] = [];
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(structuredClone(request));
    const input = request.input as any[];
    const said = String(input.at(-1)?.content ?? '');
    const output: any[] =
      said === '/compact'
        ? [{ type: 'compaction', encrypted_content: `summary of ${input.length - 1} items` }, assistant('Compacted.')]
        : [assistant(`You said: ${said}`)];
    return { usage: new Usage(), output, responseId: `compacting-${this.requests.length}` };
  }
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('CompactingModel does not stream');
  }
}

describe.each(stacks)('the Agents SDK 0.20 runner on %s', (_name, open) => {
  it('an output guardrail that trips: the blocked output is stored by one append_items transaction, a replay of its operation id stores nothing twice, accepting it later replaces the suffix', async () => {
    const path = freshPath();
    const store = open(path);
    const session = store.session('guarded');
    const apply = session.applyHistoryTransaction!.bind(session);
    const transactions: HistoryTransactionArgs[] = [];
    let loseNextAcknowledgement = false;
    // Records every transaction the runner sends; can commit one and then
    // fail it, as a connection lost after the commit would.
    vi.spyOn(session, 'applyHistoryTransaction').mockImplementation(async (args, runContext) => {
      transactions.push(structuredClone(args));
      await apply(args, runContext);
      if (loseNextAcknowledgement) {
        loseNextAcknowledgement = false;
        throw new Error('acknowledgement lost');
      }
    });
    const addItems = vi.spyOn(session, 'addItems');
    let blocking = true;
    const agent = new Agent({
      name: 'Assistant',
      model: new LocalModel(),
      tools: [getWeather],
      outputGuardrails: [
        {
          name: 'no-weather-reports',
          execute: async ({ agentOutput }) => ({ tripwireTriggered: blocking && /sunny/.test(String(agentOutput)), outputInfo: null }),
        },
      ],
    });

    // 1. The tool ran, the final output is blocked: the runner keeps the
    //    input and the executed tool call, withholds the output, in one
    //    append_items transaction. Its acknowledgement is lost.
    loseNextAcknowledgement = true;
    const blocked = await run(agent, 'What is the weather in Oslo?', { session }).catch((error) => error);
    expect(blocked).toBeInstanceOf(OutputGuardrailTripwireTriggered);
    expect(transactions).toHaveLength(1);
    const [append] = transactions;
    expect(append!.operationId).toMatch(/:blocked_append:/);
    expect(append!.transaction.type).toBe('append_items');
    const stored = await store.getItems('guarded');
    expect(stored).toEqual((append!.transaction as any).items);
    expect(types(stored)).toEqual(['message', 'function_call', 'function_call_result']);
    expect(addItems).not.toHaveBeenCalled();

    // 2. 0.20.0 refuses to rebuild a RunState that carries this transaction
    //    authority from its serialized form ("Start a new run from the
    //    persisted session history"); the live RunState resumes.
    const state = blocked.state as RunState<any, any>;
    await expect(RunState.fromString(agent, state.toString())).rejects.toThrow(/cannot be resumed safely/);

    // 3. Resuming replays the same operation id: the store recognises it and
    //    stores nothing twice.
    const replayed = await run(agent, state, { session }).catch((error) => error);
    expect(replayed).toBeInstanceOf(OutputGuardrailTripwireTriggered);
    expect(transactions).toHaveLength(2);
    expect(transactions[1]).toEqual(append);
    expect(await store.getItems('guarded')).toEqual(stored);

    // 4. Accepted later (the guardrail passes on resume): the runner swaps
    //    the blocked suffix for the accepted one with replace_suffix. Its
    //    acknowledgement is lost too; the replay changes nothing.
    blocking = false;
    loseNextAcknowledgement = true;
    await expect(run(agent, state, { session })).rejects.toThrow('acknowledgement lost');
    const accepted = await run(agent, state, { session });
    expect(accepted.finalOutput).toBe('The weather tool says: sunny in Oslo');
    const [replace, replay] = transactions.slice(2);
    expect(transactions).toHaveLength(4);
    expect(replace!.operationId).toMatch(/:accepted_replace:/);
    expect(replace!.transaction).toEqual({
      type: 'replace_suffix',
      expectedSuffix: [stored[2]],
      replacement: [stored[2], assistant('The weather tool says: sunny in Oslo')],
    });
    expect(replay).toEqual(replace);
    const final = [...stored, assistant('The weather tool says: sunny in Oslo')];
    expect(await store.getItems('guarded')).toEqual(final);
    expect(addItems).not.toHaveBeenCalled();
    await store.close();

    const reopened = open(path);
    expect(await reopened.getItems('guarded')).toEqual(final);
    await reopened.close();
  });

  it('a model that returns a compaction item: the runner replaces the history with one replaceHistoryWithCompaction call, never clear-then-add, and the result survives a restart', async () => {
    const path = freshPath();
    const store = open(path);
    const session = store.session('compacted');
    const replace = vi.spyOn(session, 'replaceHistoryWithCompaction');
    const clear = vi.spyOn(session, 'clearSession');
    const model = new CompactingModel();
    const agent = new Agent({ name: 'Assistant', model });

    await run(agent, 'one', { session });
    await run(agent, 'two', { session });
    expect(await store.getItems('compacted')).toHaveLength(4);
    expect(replace).not.toHaveBeenCalled();

    const compacted = await run(agent, '/compact', { session });
    expect(compacted.finalOutput).toBe('Compacted.');
    // The compaction item and what follows it replace everything, the turn's input included.
    const expected = [{ type: 'compaction', encrypted_content: 'summary of 4 items' }, assistant('Compacted.')];
    expect(replace).toHaveBeenCalledOnce();
    expect(replace.mock.calls[0]![0]).toEqual(expected);
    expect(clear).not.toHaveBeenCalled();
    expect(await store.getItems('compacted')).toEqual(expected);
    await store.close();

    // After a restart the next turn starts from the compacted history.
    const reopened = open(path);
    expect(await reopened.getItems('compacted')).toEqual(expected);
    await run(agent, 'three', { session: reopened.session('compacted') });
    expect(model.requests.at(-1)!.input).toEqual([...expected, { type: 'message', role: 'user', content: 'three' }]);
    expect(await reopened.getItems('compacted')).toEqual([
      ...expected,
      { type: 'message', role: 'user', content: 'three' },
      assistant('You said: three'),
    ]);
    await reopened.close();
  });

  it('a streamed run stores the turn in one append when it ends; a stream that fails after the model saw the input stores the input', async () => {
    const path = freshPath();
    const store = open(path);
    const session = store.session('streamed');
    const addItems = vi.spyOn(session, 'addItems');
    const storedWhenModelCalled: unknown[][] = [];
    let failAt = 0;
    const model = new LocalModel({
      onRequest: async () => {
        storedWhenModelCalled.push(await store.getItems('streamed'));
        if (storedWhenModelCalled.length === failAt) throw new Error('connection reset');
      },
    });
    const agent = new Agent({ name: 'Assistant', model, tools: [getWeather] });

    const result = await run(agent, 'What is the weather in Rome?', { session, stream: true });
    let text = '';
    for await (const delta of result.toTextStream()) text += delta;
    await result.completed;
    expect(text).toBe('The weather tool says: sunny in Rome');
    // 0.20.0 does not write the input before calling the model: both model
    // calls of the turn (the tool call, then the answer) saw nothing stored,
    // and the whole turn is one append at its end.
    expect(storedWhenModelCalled).toEqual([[], []]);
    expect(addItems).toHaveBeenCalledOnce();
    const turn = await store.getItems('streamed');
    expect(types(turn)).toEqual(['message', 'function_call', 'function_call_result', 'message']);
    expect(turn).toEqual(addItems.mock.calls[0]![0]);

    // The second model call of the next turn fails mid-turn: the input the
    // model saw is stored, alone, so the conversation does not lose it.
    failAt = 4;
    const failing = await run(agent, 'And the weather in Paris?', { session, stream: true });
    await expect(failing.completed).rejects.toThrow('connection reset');
    const question = { type: 'message', role: 'user', content: 'And the weather in Paris?' };
    expect(await store.getItems('streamed')).toEqual([...turn, question]);
    await store.close();

    const reopened = open(path);
    expect(await reopened.getItems('streamed')).toEqual([...turn, question]);
    await reopened.close();
  });

  it('sessionInputCallback shapes what the model sees from the stored history; the store keeps the whole history', async () => {
    const store = open(freshPath());
    const session = store.session('callback');
    const model = new LocalModel();
    const agent = new Agent({ name: 'Assistant', model });
    await run(agent, "Hello, I'm John", { session });
    await run(agent, 'How are you?', { session });
    const before = await store.getItems('callback');
    expect(before).toHaveLength(4);

    // Only the last exchange reaches the model, so it cannot know the name.
    const keepLastTwo = vi.fn((history: any[], newItems: any[]) => [...history.slice(-2), ...newItems]);
    const result = await run(agent, "What's my name?", { session, sessionInputCallback: keepLastTwo });
    expect(keepLastTwo).toHaveBeenCalledOnce();
    expect(keepLastTwo.mock.calls[0]![0]).toEqual(before);
    expect(result.finalOutput).toBe("I don't know your name yet.");
    const question = { type: 'message', role: 'user', content: "What's my name?" };
    expect(model.requests.at(-1)!.input).toEqual([...before.slice(-2), question]);
    expect(await store.getItems('callback')).toEqual([...before, question, assistant("I don't know your name yet.")]);

    // Without the callback the whole stored history is the model's input again.
    const again = await run(agent, "What's my name?", { session });
    expect(again.finalOutput).toBe('Your name is John.');
    await store.close();
  });

  it('an app rewrites a stored tool call with applyHistoryMutations; the next turn sends the rewritten call to the model', async () => {
    const path = freshPath();
    const store = open(path);
    const session = store.session('rewritten');
    expect(isSessionHistoryRewriteAwareSession(session)).toBe(true);
    const model = new LocalModel();
    const agent = new Agent({ name: 'Assistant', model, tools: [getWeather] });
    await run(agent, 'What is the weather in Oslo?', { session });
    const call = (await store.getItems('rewritten'))[1];
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather' });

    const redacted = { ...call, arguments: JSON.stringify({ city: '[redacted]' }) };
    await session.applyHistoryMutations!({ mutations: [{ type: 'replace_function_call', callId: call.callId, replacement: redacted }] });
    await run(agent, "I'm Ada", { session });
    expect((model.requests.at(-1)!.input as any[])[1]).toEqual(redacted);
    await store.close();

    const reopened = open(path);
    expect((await reopened.getItems('rewritten'))[1]).toEqual(redacted);
    await reopened.close();
  });
});
