import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { run } from '@sessionkit/cli';

export interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _enc, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

/** Runs the CLI in-process with captured output. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Captured> {
  const stdout = sink();
  const stderr = sink();
  const code = await run(args, { stdout, stderr, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export async function cliJson<T = any>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  const result = await cli([...args, '--json'], env);
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

export function tempDir(): { dir: string; path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sk-cli-'));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const binPath = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const binBuilt = existsSync(binPath);

/** Items of every kind the TS Agents SDK stores. */
export function sampleItems(n: number): unknown[] {
  return [
    { role: 'user', content: `question ${n}` },
    { type: 'reasoning', id: `rs_${n}`, content: [{ type: 'input_text', text: 'thinking about it' }], providerData: { encryptedContent: 'gAAA' } },
    { type: 'function_call', id: `fc_${n}`, callId: `call_${n}`, name: 'lookup', arguments: '{"q":"x"}', status: 'completed' },
    { type: 'function_call_result', callId: `call_${n}`, name: 'lookup', status: 'completed', output: { type: 'text', text: `result ${n}` } },
    { type: 'message', role: 'assistant', id: `msg_${n}`, status: 'completed', content: [{ type: 'output_text', text: `answer ${n} — ünïcødé 🎉` }] },
    { role: 'user', content: [{ type: 'input_image', image: 'https://example.com/cat.png', detail: 'auto' }, { type: 'input_text', text: 'and this?' }] },
  ];
}
