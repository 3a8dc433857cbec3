/**
 * Python Agents SDK items (the Responses API's input items, snake_case, as
 * `json.dumps` writes them) → TypeScript Agents SDK items
 * (`@openai/agents-core` protocol, camelCase). The mapping follows the TS
 * SDK's own converter from Responses items (openaiResponsesConverter); every
 * rule is listed in docs/cli.md. Fields the TS protocol has no place for are
 * kept under `providerData` (as the TS SDK does), so nothing is dropped;
 * types with no TS counterpart are carried unchanged and counted.
 */
type Json = Record<string, any>;

export interface MapResult {
  readonly items: Json[];
  /** Item types carried over unchanged because no mapping is defined. */
  readonly unmapped: Record<string, number>;
}

function rest(item: Json, drop: readonly string[]): Json | undefined {
  const out: Json = {};
  for (const [key, value] of Object.entries(item)) if (!drop.includes(key) && value !== undefined && value !== null) out[key] = value;
  return Object.keys(out).length > 0 ? out : undefined;
}

function withProviderData<T extends Json>(base: T, extra: Json | undefined): T {
  return extra ? { ...base, providerData: extra } : base;
}

function inputContent(part: Json): Json {
  switch (part?.type) {
    case 'input_text':
      return withProviderData({ type: 'input_text', text: part.text }, rest(part, ['type', 'text']));
    case 'input_image': {
      const image = typeof part.image_url === 'string' ? part.image_url : typeof part.file_id === 'string' ? { id: part.file_id } : undefined;
      return withProviderData(
        { type: 'input_image', ...(image !== undefined ? { image } : {}), ...(part.detail ? { detail: part.detail } : {}) },
        rest(part, ['type', 'image_url', 'file_id', 'detail']),
      );
    }
    case 'input_file': {
      const file =
        typeof part.file_data === 'string'
          ? part.file_data
          : typeof part.file_id === 'string'
            ? { id: part.file_id }
            : typeof part.file_url === 'string'
              ? { url: part.file_url }
              : undefined;
      return withProviderData(
        { type: 'input_file', ...(file !== undefined ? { file } : {}), ...(part.filename ? { filename: part.filename } : {}) },
        rest(part, ['type', 'file_data', 'file_id', 'file_url', 'filename']),
      );
    }
    default:
      return part;
  }
}

function outputContent(part: Json): Json {
  switch (part?.type) {
    case 'output_text':
      // annotations / logprobs have no protocol field: providerData, as the TS converter keeps them.
      return withProviderData({ type: 'output_text', text: part.text }, rest(part, ['type', 'text']));
    case 'refusal':
      return withProviderData({ type: 'refusal', refusal: part.refusal }, rest(part, ['type', 'refusal']));
    default:
      return part;
  }
}

/** A string stays a string; a list of parts keeps the protocol's list form (input_text / input_image / input_file). */
function toolOutput(output: unknown): unknown {
  if (typeof output === 'string' || !Array.isArray(output)) return output;
  return output.map(inputContent);
}

/** Maps one session's items (in order: a tool output takes its name from the earlier call with its call_id). */
export function mapPythonItems(items: readonly unknown[]): MapResult {
  const names = new Map<string, string>();
  const unmapped: Record<string, number> = {};
  const out: Json[] = [];
  for (const raw of items) {
    const item = raw as Json;
    if (typeof item !== 'object' || item === null) {
      out.push(item);
      unmapped[typeof item] = (unmapped[typeof item] ?? 0) + 1;
      continue;
    }
    const type = item.type ?? (item.role ? 'message' : undefined);
    switch (type) {
      case 'message': {
        const role = item.role;
        if (role === 'assistant') {
          const content = typeof item.content === 'string' ? [{ type: 'output_text', text: item.content }] : (item.content ?? []).map(outputContent);
          out.push(
            withProviderData(
              { type: 'message', role, status: item.status ?? 'completed', content, ...(item.id ? { id: item.id } : {}) },
              rest(item, ['type', 'role', 'status', 'content', 'id']),
            ),
          );
        } else {
          const content = typeof item.content === 'string' ? item.content : (item.content ?? []).map(inputContent);
          // EasyInputMessage ({role, content}) keeps its short form; a typed message keeps `type`.
          out.push(
            withProviderData(
              { ...(item.type ? { type: 'message' } : {}), role, content, ...(item.id ? { id: item.id } : {}) },
              rest(item, ['type', 'role', 'content', 'id', 'status']),
            ),
          );
        }
        break;
      }
      case 'function_call':
        if (typeof item.call_id === 'string' && typeof item.name === 'string') names.set(item.call_id, item.name);
        out.push(
          withProviderData(
            {
              type: 'function_call',
              callId: item.call_id,
              name: item.name,
              arguments: item.arguments ?? '',
              ...(item.id ? { id: item.id } : {}),
              ...(item.status ? { status: item.status } : {}),
              ...(typeof item.namespace === 'string' ? { namespace: item.namespace } : {}),
            },
            rest(item, ['type', 'call_id', 'name', 'arguments', 'id', 'status', 'namespace']),
          ),
        );
        break;
      case 'function_call_output':
        out.push(
          withProviderData(
            {
              type: 'function_call_result',
              // Python's output item has no tool name; the TS protocol requires one: the call's name, else the call id (as the TS converter does).
              name: item.name ?? names.get(item.call_id) ?? item.call_id,
              callId: item.call_id,
              status: item.status ?? 'completed',
              output: toolOutput(item.output),
              ...(item.id ? { id: item.id } : {}),
            },
            rest(item, ['type', 'call_id', 'output', 'status', 'id', 'name']),
          ),
        );
        break;
      case 'reasoning':
        out.push(
          withProviderData(
            {
              type: 'reasoning',
              ...(item.id ? { id: item.id } : {}),
              content: (item.summary ?? []).map((part: Json) => withProviderData({ type: 'input_text', text: part.text }, rest(part, ['type', 'text']))),
              ...(Array.isArray(item.content) && item.content.length > 0
                ? { rawContent: item.content.map((part: Json) => ({ type: 'reasoning_text', text: part.text })) }
                : {}),
            },
            // encrypted_content stays under providerData, where the TS converter looks for it.
            rest(item, ['type', 'id', 'summary', 'content']),
          ),
        );
        break;
      default:
        out.push(item);
        unmapped[String(type)] = (unmapped[String(type)] ?? 0) + 1;
    }
  }
  return { items: out, unmapped };
}
