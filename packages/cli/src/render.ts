/** Terminal colors, only when the stream is a TTY and NO_COLOR is unset. */
export function palette(enabled: boolean) {
  const wrap = (open: number, close: number) => (text: string) => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return { bold: wrap(1, 22), dim: wrap(2, 22), cyan: wrap(36, 39), green: wrap(32, 39), yellow: wrap(33, 39), red: wrap(31, 39), magenta: wrap(35, 39) };
}
export type Palette = ReturnType<typeof palette>;

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(partText).filter(Boolean).join('\n');
  // A tool result's output may be one structured part ({ type: 'text', text }).
  if (typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string') return partText(value);
  return value === undefined ? '' : JSON.stringify(value);
}

function partText(part: any): string {
  if (typeof part === 'string') return part;
  switch (part?.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
    case 'reasoning_text':
    case 'summary_text':
      return part.text ?? '';
    case 'refusal':
      return `[refusal] ${part.refusal ?? ''}`;
    case 'input_image':
    case 'image':
      return `[image${typeof part.image === 'string' && !part.image.startsWith('data:') ? ` ${part.image}` : ''}]`;
    case 'input_file':
    case 'file':
      return `[file${part.filename ? ` ${part.filename}` : ''}]`;
    case 'audio':
      return '[audio]';
    default:
      return `[${part?.type ?? 'part'}]`;
  }
}

/** One item as a person reads it: a heading (role or kind) and its text. */
export function renderItem(item: any, position: number, c: Palette): string {
  const n = c.dim(`#${position}`);
  const indent = (body: string) => body.split('\n').map((line) => `    ${line}`).join('\n');
  if (typeof item !== 'object' || item === null) return `${n} ${c.yellow('value')}\n${indent(JSON.stringify(item))}`;
  const type = item.type ?? (item.role ? 'message' : 'unknown');
  switch (type) {
    case 'message': {
      const role = String(item.role ?? 'unknown');
      const color = role === 'user' ? c.green : role === 'assistant' ? c.cyan : c.magenta;
      return `${n} ${c.bold(color(role))}\n${indent(text(item.content))}`;
    }
    case 'function_call':
      return `${n} ${c.yellow('tool call')} ${c.bold(String(item.name))} ${c.dim(String(item.callId ?? item.call_id ?? ''))}\n${indent(`arguments: ${item.arguments ?? ''}`)}`;
    case 'function_call_result':
    case 'function_call_output':
      return `${n} ${c.yellow('tool result')} ${item.name ? c.bold(String(item.name)) : ''} ${c.dim(String(item.callId ?? item.call_id ?? ''))}\n${indent(text(item.output))}`;
    case 'reasoning': {
      const summary = text(item.content ?? item.summary);
      return `${n} ${c.dim('reasoning summary')}\n${indent(summary || c.dim('(no summary)'))}`;
    }
    case 'hosted_tool_call':
    case 'computer_call':
    case 'shell_call':
    case 'apply_patch_call':
      return `${n} ${c.yellow(type)} ${c.bold(String(item.name ?? ''))}${item.arguments ? `\n${indent(`arguments: ${item.arguments}`)}` : ''}${item.output ? `\n${indent(`output: ${text(item.output)}`)}` : ''}`;
    default:
      return `${n} ${c.yellow(String(type))}\n${indent(JSON.stringify(item))}`;
  }
}
