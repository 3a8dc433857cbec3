import { SessionError, SessionErrorCode } from './errors.js';
import type { SummarizeContext } from './decorators/compaction.js';
import type { SessionItem } from './types.js';

type Json = Record<string, unknown>;

/**
 * The part of the official `openai` client (v6 and v7) this summarizer uses,
 * typed structurally so core never depends on the SDK: pass `new OpenAI()`.
 *
 * `body` is declared loosely on purpose, as a supertype of the SDK's
 * `ResponseCompactParams` (whose `model` may be null and whose `input` is a
 * string or an array of its `ResponseInputItem`s): a method's parameters are
 * compared both ways, so the real client is assignable. The summarizer always
 * sends `model` (a string), `input` (an array of Responses input items, see
 * {@link toResponsesInput}) and, when set, `instructions`.
 */
export interface OpenAICompactClient {
  readonly responses: {
    compact(
      body: { model: string | null; input?: unknown; instructions?: string | null },
      options?: { signal?: AbortSignal },
    ): PromiseLike<{ output: readonly unknown[] }>;
  };
}

export interface OpenAICompactSummarizerOptions {
  /** The OpenAI client (`new OpenAI()` from the `openai` package, or anything with `responses.compact`). Required. */
  readonly openai: OpenAICompactClient;
  /** Model passed to `responses.compact`, e.g. `'gpt-5.4-mini'`. Required. */
  readonly model: string;
  /** Instructions sent with the request. Default: none. */
  readonly instructions?: string;
  /**
   * Turns stored Agents SDK items into Responses API input items. Default:
   * {@link toResponsesInput} (messages, function calls and results,
   * reasoning, compaction items; other items are sent as stored, without
   * `providerData`).
   */
  readonly toInput?: (items: readonly SessionItem[]) => unknown[];
  /** Aborts a compact request after this many milliseconds. Default: no timeout. */
  readonly timeoutMs?: number;
}

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Drops `undefined` fields, as JSON would. */
function clean(value: Json): Json {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function inputContent(part: unknown): unknown {
  if (!isRecord(part)) return part;
  if (part.type === 'input_image') {
    const image = part.image;
    return clean({
      type: 'input_image',
      detail: part.detail ?? 'auto',
      ...(typeof image === 'string' ? { image_url: image } : isRecord(image) ? { file_id: image.id } : {}),
      ...(typeof part.image_url === 'string' ? { image_url: part.image_url } : {}),
      ...(typeof part.file_id === 'string' ? { file_id: part.file_id } : {}),
    });
  }
  if (part.type === 'input_file') {
    const file = part.file;
    return clean({
      type: 'input_file',
      filename: part.filename,
      ...(typeof file === 'string' ? (/^https?:/.test(file) ? { file_url: file } : { file_data: file }) : {}),
      ...(isRecord(file) ? { file_id: file.id } : {}),
    });
  }
  const { providerData: _drop, ...rest } = part;
  return rest;
}

function outputText(output: unknown): unknown {
  if (typeof output === 'string') return output;
  if (isRecord(output) && output.type === 'text') return output.text;
  if (Array.isArray(output)) return output.map(inputContent);
  return JSON.stringify(output);
}

/**
 * The Agents SDK's stored item shapes (camelCase `callId`, `providerData`,
 * `function_call_result`) as Responses API input (`call_id`,
 * `function_call_output`), enough for `responses.compact` to read a
 * conversation. Items it does not know are sent as stored, minus `providerData`.
 */
export function toResponsesInput(items: readonly SessionItem[]): unknown[] {
  return items.map((item) => {
    if (!isRecord(item)) return item;
    const { providerData: _drop, ...rest } = item;
    const type = rest.type ?? (typeof rest.role === 'string' ? 'message' : undefined);
    if (type === 'message') {
      const content = typeof rest.content === 'string' ? rest.content : Array.isArray(rest.content) ? rest.content.map(inputContent) : rest.content;
      return clean({ type: 'message', role: rest.role, content, id: rest.id, status: rest.status });
    }
    if (type === 'function_call') {
      return clean({ type: 'function_call', call_id: rest.callId, name: rest.name, arguments: rest.arguments, id: rest.id, status: rest.status });
    }
    if (type === 'function_call_result') {
      return clean({ type: 'function_call_output', call_id: rest.callId, output: outputText(rest.output), id: rest.id, status: rest.status });
    }
    if (type === 'reasoning') {
      const summary = Array.isArray(rest.content)
        ? rest.content.map((part) => ({ type: 'summary_text', text: isRecord(part) ? part.text : String(part) }))
        : [];
      const encrypted = isRecord(item.providerData) ? item.providerData.encryptedContent ?? item.providerData.encrypted_content : undefined;
      return clean({ type: 'reasoning', id: rest.id, summary, encrypted_content: encrypted });
    }
    if (type === 'compaction') return clean({ type: 'compaction', id: rest.id, encrypted_content: rest.encrypted_content });
    return rest;
  });
}

/** The compact endpoint's output (user messages, one compaction item) as Agents SDK items. */
function fromResponsesOutput(output: readonly unknown[]): SessionItem[] {
  return output.map((item) => {
    if (!isRecord(item)) return item as SessionItem;
    if (item.type === 'message' && item.role === 'user' && Array.isArray(item.content)) {
      const content = item.content.map((part) => {
        if (!isRecord(part)) return part;
        if (part.type === 'input_image') {
          const image = typeof part.image_url === 'string' ? part.image_url : { id: part.file_id };
          return clean({ type: 'input_image', image, detail: part.detail });
        }
        if (part.type === 'input_file') {
          const file = part.file_data ?? part.file_url ?? (part.file_id !== undefined ? { id: part.file_id } : undefined);
          return clean({ type: 'input_file', file, filename: part.filename });
        }
        return clean({ type: part.type, text: part.text });
      });
      return clean({ id: item.id, type: 'message', role: 'user', content });
    }
    if (item.type === 'compaction') {
      return clean({ type: 'compaction', id: item.id, encrypted_content: item.encrypted_content, created_by: item.created_by });
    }
    return clean(item);
  });
}

/**
 * A `summarize` for {@link withCompaction} that calls OpenAI's Responses
 * compact endpoint (`responses.compact`) with the older items and returns
 * its output (the user messages and one `compaction` item). withCompaction
 * then swaps them in with one transaction, so you get OpenAI's compaction
 * with an atomic replacement on any store — OpenAIResponsesCompactionSession
 * clears and re-adds instead. See docs/decorators/compaction.md.
 */
export function openAICompactSummarizer(
  options: OpenAICompactSummarizerOptions,
): (items: readonly SessionItem[], context: SummarizeContext) => Promise<SessionItem[]> {
  if (typeof options?.openai?.responses?.compact !== 'function') {
    throw new SessionError(SessionErrorCode.InvalidArgument, 'openai must be a client with responses.compact (the openai package, v6 or later)');
  }
  if (typeof options.model !== 'string' || options.model === '') {
    throw new SessionError(SessionErrorCode.InvalidArgument, 'model must be a non-empty string');
  }
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)) {
    throw new SessionError(SessionErrorCode.InvalidArgument, 'timeoutMs must be a positive integer');
  }
  const toInput = options.toInput ?? toResponsesInput;
  return async (items) => {
    const body = {
      model: options.model,
      input: toInput(items),
      ...(options.instructions !== undefined ? { instructions: options.instructions } : {}),
    };
    const request = timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) };
    const response = await options.openai.responses.compact(body, request);
    if (!response || !Array.isArray(response.output)) {
      throw new SessionError(SessionErrorCode.BackendError, 'responses.compact returned no output array');
    }
    return fromResponsesOutput(response.output);
  };
}
