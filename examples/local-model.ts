import { Usage, type Model, type ModelRequest, type ModelResponse, type StreamEvent } from '@openai/agents';

type Item = Record<string, any>;
// The SDK's output item union; the replies below are plain objects of its message and function_call shapes.
type OutputItem = ModelResponse['output'][number];

function textOf(item: Item): string {
  const content = item.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: Item) => part.text ?? '').join('');
  return '';
}

/**
 * A deterministic model that runs locally: no network, no API key. It answers
 * only from the input the runner gives it, so whatever it "remembers" must
 * have come from the session's history.
 *
 * - "I'm <Name>" / "my name is <Name>": greets the user.
 * - "What's my name?": searches the whole input, newest first, for a name
 *   the user gave.
 * - a message mentioning "weather" calls the `get_weather` tool once, then
 *   reports its result (when the agent has that tool; else it echoes).
 *
 * It streams too (`run(..., { stream: true })`): the same reply as text
 * deltas, then the whole response.
 */
export class LocalModel implements Model {
  /** Every request the runner made, for tests to inspect. */
  readonly requests: ModelRequest[] = [];
  #calls = 0;
  readonly #onRequest: ((request: ModelRequest) => void | Promise<void>) | undefined;

  /** `onRequest` runs before each reply, e.g. to look at what the runner stored before calling the model. */
  constructor(options: { onRequest?: (request: ModelRequest) => void | Promise<void> } = {}) {
    this.#onRequest = options.onRequest;
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(structuredClone(request));
    await this.#onRequest?.(request);
    const input: Item[] = typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input;
    const last = input[input.length - 1] ?? {};
    const canCallWeather = request.tools.some((tool) => tool.name === 'get_weather');
    return { usage: new Usage(), output: [this.#reply(input, last, canCallWeather) as OutputItem], responseId: `local-${++this.#calls}` };
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const response = await this.getResponse(request);
    yield { type: 'response_started' };
    for (const item of response.output as Item[]) {
      if (item.type === 'message') yield { type: 'output_text_delta', delta: textOf(item) };
    }
    // The stream event's output is the protocol's narrower item schema; the replies above fit it.
    const done = {
      type: 'response_done',
      response: { id: response.responseId!, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 }, output: response.output },
    };
    yield done as StreamEvent;
  }

  #reply(input: Item[], last: Item, canCallWeather: boolean): Item {
    if (last.type === 'function_call_result') {
      const output = last.output?.text ?? last.output;
      return message(`The weather tool says: ${typeof output === 'string' ? output : JSON.stringify(output)}`);
    }
    const said = textOf(last);
    if (canCallWeather && /weather/i.test(said)) {
      return {
        type: 'function_call',
        callId: `call_${this.#calls + 1}`,
        name: 'get_weather',
        arguments: JSON.stringify({ city: said.match(/in ([A-Z][a-z]+)/)?.[1] ?? 'Paris' }),
        status: 'completed',
      };
    }
    const introduced = said.match(/(?:I'm|I am|my name is)\s+([A-Z][\p{L}-]*)/u);
    if (introduced) return message(`Nice to meet you, ${introduced[1]}!`);
    if (/what'?s my name|what is my name/i.test(said)) {
      for (const item of [...input].reverse()) {
        if (item.role !== 'user') continue;
        const name = textOf(item).match(/(?:I'm|I am|my name is)\s+([A-Z][\p{L}-]*)/u)?.[1];
        if (name) return message(`Your name is ${name}.`);
      }
      return message("I don't know your name yet.");
    }
    return message(`You said: ${said}`);
  }
}

function message(text: string): Item {
  return {
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text }],
  };
}
