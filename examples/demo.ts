/**
 * The README's demo: an agent whose memory survives restarts.
 *
 *   ./scripts/demo.sh            # 1st run: "Hello, I'm John"
 *   ./scripts/demo.sh            # 2nd run: "What's my name?" -> answered from SQLite
 *   ./scripts/demo.sh --reset    # forget the conversation
 *
 * Runs with a deterministic local model (no API key). Options:
 *   --db <path>       SQLite file (default ./conversations.db)
 *   --session <id>    conversation id (default demo-user)
 *   --say <text>      send this instead of the scripted line
 *   --reset           forget the conversation instead of talking
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, run, setTracingDisabled } from '@openai/agents';
import { SqliteStore } from '@sessionkit/sqlite';
import { LocalModel } from './local-model.js';

// The local model needs no OpenAI account, so there is nowhere to export traces to.
setTracingDisabled(true);

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'conversations.db' },
    session: { type: 'string', default: 'demo-user' },
    say: { type: 'string' },
    reset: { type: 'boolean', default: false },
  },
});

// pnpm runs package scripts inside examples/; resolve paths against where the user typed the command.
const dbPath = resolve(process.env.INIT_CWD ?? process.cwd(), values.db!);
await using store = new SqliteStore({ path: dbPath });
const session = store.session(values.session!);

if (values.reset) {
  await session.clearSession();
  console.log(`Forgot conversation "${values.session}" in ${dbPath}`);
} else {
  const history = await session.getItems();
  const input = values.say ?? (history.length === 0 ? "Hello, I'm John" : "What's my name?");

  const agent = new Agent({
    name: 'Assistant',
    instructions: 'You are a helpful assistant with a good memory.',
    model: new LocalModel(),
  });

  console.log(`(${history.length} items of history loaded from ${dbPath})`);
  console.log(`You:       ${input}`);
  const result = await run(agent, input, { session });
  console.log(`Assistant: ${result.finalOutput}`);
}
// `await using` closes the store here, on both paths (process.exit would skip it).
