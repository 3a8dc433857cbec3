import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@sessionkit/sqlite';
import { afterAll, describe, expect, it } from 'vitest';

// A compaction turn of the real run() (@openai/agents 0.20.0) on a sessionkit
// session is one replaceHistoryWithCompaction call; this kills a child
// process running such turns on a SQLite file, at random points inside the
// replacement, and checks what a restarted process reads.
const child = fileURLToPath(new URL('./fixtures/replace-history-child.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIZE = 300;
const KILLS = 20;

type Mode = 'runner' | 'clear-then-add';

/**
 * Starts the child, waits until it has stored a full generation, then
 * SIGKILLs it at a random point of a later replacement (within the time the
 * last one took). Resolves with the last generation the child acknowledged.
 */
function killDuringReplacement(path: string, mode: Mode): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, path, 'conversation', String(SIZE), mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acknowledged = 0;
    let lastMs = 0;
    let armed = false;
    let buffered = '';
    let stderr = '';
    proc.stderr.on('data', (chunk) => (stderr += chunk));
    proc.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const [word, g, ms] = buffered.slice(0, newline).split(' ');
        buffered = buffered.slice(newline + 1);
        if (word === 'replaced') {
          acknowledged = Number(g);
          lastMs = Number(ms);
        } else if (word === 'replacing' && acknowledged >= 1 && !armed) {
          armed = true;
          setTimeout(() => proc.kill('SIGKILL'), Math.random() * lastMs);
        }
      }
    });
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acknowledged);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

/** Which complete generation the stored history is, or how it is broken. */
function generationOf(items: any[]): number | string {
  if (items.length === 0) return 'empty';
  if (items.length !== SIZE) return `partial: ${items.length} items`;
  const g = Number(/^summary of generation (\d+)$/.exec(items[0]?.encrypted_content ?? '')?.[1]);
  if (items[0].type !== 'compaction' || !Number.isInteger(g)) return 'no compaction item first';
  for (let i = 1; i < SIZE; i++) {
    if (!String(items[i].content?.[0]?.text).startsWith(`generation ${g} item ${i} `)) return `mixed at ${i}`;
  }
  return g;
}

/** Kills a child mid-replacement, restarts (a new store on the same file) and reads what survived. */
async function killAndReopen(path: string, mode: Mode): Promise<{ acknowledged: number; stored: number | string }> {
  const acknowledged = await killDuringReplacement(path, mode);
  const store = new SqliteStore({ path });
  try {
    return { acknowledged, stored: generationOf(await store.getItems('conversation')) };
  } finally {
    await store.close();
  }
}

describe('compaction replacement on a SQLite file under SIGKILL', () => {
  it(`the runner's replaceHistoryWithCompaction leaves the old history or the new one, never empty or partial (${KILLS} kills)`, async () => {
    const path = join(dir, 'runner.db');
    const seen: Array<{ acknowledged: number; stored: number | string }> = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const outcome = await killAndReopen(path, 'runner');
      seen.push(outcome);
      // The acknowledged generation, or the one the killed replacement was writing.
      expect([outcome.acknowledged, outcome.acknowledged + 1], JSON.stringify(seen)).toContain(outcome.stored);
    }
    // How many kills came after a commit the child had not yet reported (the rest: before the commit).
    console.log(`kills: ${seen.filter(({ acknowledged, stored }) => stored === acknowledged + 1).length} of ${KILLS} found the new generation`);
  }, 90_000);

  it('the same kills catch the clear-then-add fallback leaving an empty or partial history (the check can fail)', async () => {
    const path = join(dir, 'fallback.db');
    const seen: Array<{ acknowledged: number; stored: number | string }> = [];
    // Stops at the first broken history; 20 kills make a miss vanishingly unlikely.
    for (let kill = 0; kill < KILLS && seen.every(({ stored }) => typeof stored === 'number'); kill++) {
      seen.push(await killAndReopen(path, 'clear-then-add'));
    }
    expect(seen.some(({ stored }) => typeof stored === 'string'), JSON.stringify(seen)).toBe(true);
  }, 90_000);
});
