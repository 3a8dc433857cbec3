import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const project = fileURLToPath(new URL('./types/tsconfig.json', import.meta.url));
const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));

describe('type-level compatibility with @openai/agents', () => {
  it('store.session(id) is assignable to the 0.20.0 Session, RunContextAwareSession, SessionHistoryTransactionAwareSession and SessionHistoryRewriteAwareSession, replaceHistoryWithCompaction included (checked by tsc on the built declarations)', async () => {
    const result = await run(process.execPath, [tsc, '-p', project], { encoding: 'utf8' }).catch((error) => error);
    expect(result.stdout ?? '').toBe('');
    expect(result.code ?? 0).toBe(0);
  }, 120_000);
});
