import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * The record of sessions a copy has finished: one JSON line per session id,
 * appended as each finishes. The first line names the copy (source and
 * target) so a checkpoint is never reused for another pair. Losing the last
 * lines to a kill is harmless: writeHistory finds those sessions already
 * identical at the target and writes nothing.
 */
export class Checkpoint {
  readonly done = new Set<string>();
  #pending: string[] = [];
  #timer: NodeJS.Timeout | undefined;

  private constructor(readonly path: string) {}

  static open(path: string, identity: string): Checkpoint {
    const checkpoint = new Checkpoint(path);
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8').split('\n');
      const head = safeParse(lines[0] ?? '');
      if (head?.copy !== identity) {
        throw new Error(`the checkpoint file ${path} belongs to another copy; remove it or pass another --checkpoint`);
      }
      // A torn last line (killed mid-write) is ignored.
      for (const line of lines.slice(1)) {
        const id = safeParse(line);
        if (typeof id === 'string') checkpoint.done.add(id);
      }
    } else {
      writeFileSync(path, `${JSON.stringify({ copy: identity })}\n`);
    }
    return checkpoint;
  }

  markDone(sessionId: string): void {
    this.done.add(sessionId);
    this.#pending.push(JSON.stringify(sessionId));
    // Batched appends: one write per 50 ms instead of one per session.
    this.#timer ??= setTimeout(() => this.flush(), 50);
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    appendFileSync(this.path, `${this.#pending.join('\n')}\n`);
    this.#pending = [];
  }
}

function safeParse(line: string): any {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
