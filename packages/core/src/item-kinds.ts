import type { SessionItem } from './types.js';

// How the OpenAI Agents SDK's items (protocol.ts of @openai/agents-core) are
// told apart. Items are open JSON: anything unrecognised is counted by its
// `type` and never rejected.

/** Item types that are a tool call issued by the model. */
export const TOOL_CALL_TYPES: ReadonlySet<string> = new Set([
  'function_call',
  'hosted_tool_call',
  'computer_call',
  'shell_call',
  'apply_patch_call',
  'tool_search_call',
  'program',
]);

/** Item types that carry a tool's result back to the model. */
export const TOOL_OUTPUT_TYPES: ReadonlySet<string> = new Set([
  'function_call_result',
  'computer_call_result',
  'shell_call_output',
  'apply_patch_call_output',
  'tool_search_output',
  'program_output',
]);

function record(item: SessionItem): Record<string, unknown> | undefined {
  return typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as Record<string, unknown>) : undefined;
}

/** The item's type: its `type`, or `'message'` for a message without one (the SDK allows omitting it). */
export function itemType(item: SessionItem): string {
  const fields = record(item);
  if (!fields) return 'unknown';
  if (typeof fields.type === 'string') return fields.type;
  return typeof fields.role === 'string' ? 'message' : 'unknown';
}

/** The role of a message item (`user`, `assistant`, `system`, ...), else undefined. */
export function itemRole(item: SessionItem): string | undefined {
  const fields = record(item);
  if (!fields || typeof fields.role !== 'string') return undefined;
  return fields.type === undefined || fields.type === 'message' ? fields.role : undefined;
}

/** The id tying a tool call to its output (`callId`, or `call_id` as some providers write it). */
export function itemCallId(item: SessionItem): string | undefined {
  const fields = record(item);
  if (!fields) return undefined;
  const id = fields.callId ?? fields.call_id;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

export function isToolCall(item: SessionItem): boolean {
  return TOOL_CALL_TYPES.has(itemType(item));
}

export function isToolOutput(item: SessionItem): boolean {
  return TOOL_OUTPUT_TYPES.has(itemType(item));
}
