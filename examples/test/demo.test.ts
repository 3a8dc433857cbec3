import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The README's demo command, exactly as a user runs it: scripts/demo.sh,
// twice in a row, then --reset. It must remember across processes.
const demo = fileURLToPath(new URL('../../scripts/demo.sh', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runDemo(args: string[], cwd = dir): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [demo, ...args], { cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`demo ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const assistant = (out: string) => out.match(/^Assistant: (.*)$/m)?.[1];
const you = (out: string) => out.match(/^You: +(.*)$/m)?.[1];

describe('the README demo (scripts/demo.sh)', () => {
  it('works twice in a row and the second answer comes from the history in SQLite; --reset forgets', async () => {
    const db = join(dir, 'memory.db');
    const first = await runDemo(['--db', db]);
    expect(first).toContain(`(0 items of history loaded from ${db})`);
    expect(you(first)).toBe("Hello, I'm John");
    expect(assistant(first)).toBe('Nice to meet you, John!');

    const second = await runDemo(['--db', db]);
    expect(second).toContain(`(2 items of history loaded from ${db})`);
    expect(you(second)).toBe("What's my name?");
    expect(assistant(second)).toBe('Your name is John.');

    const reset = await runDemo(['--db', db, '--reset']);
    expect(reset).toContain(`Forgot conversation "demo-user" in ${db}`);
    expect(assistant(reset)).toBeUndefined();

    const afterReset = await runDemo(['--db', db]);
    expect(afterReset).toContain('(0 items of history loaded');
    expect(you(afterReset)).toBe("Hello, I'm John");
  }, 300_000);

  it('--say sends your own line: the newest name given wins, and a weather question (the demo agent has no tool) is echoed', async () => {
    const db = join(dir, 'say.db');
    await runDemo(['--db', db]);
    expect(assistant(await runDemo(['--db', db, '--say', 'Actually, my name is Ann']))).toBe('Nice to meet you, Ann!');
    expect(assistant(await runDemo(['--db', db, '--say', "What's my name?"]))).toBe('Your name is Ann.');
    expect(assistant(await runDemo(['--db', db, '--say', 'What is the weather in Oslo?']))).toBe('You said: What is the weather in Oslo?');
  }, 300_000);

  it('writes ./conversations.db where the command is run when no --db is given', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const out = await runDemo([], cwd);
    const db = join(cwd, 'conversations.db');
    expect(out).toContain(`(0 items of history loaded from ${db})`);
    expect(existsSync(db)).toBe(true);
    expect(assistant(await runDemo([], cwd))).toBe('Your name is John.');
  }, 300_000);
});
