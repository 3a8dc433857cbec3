/**
 * Fuzz inputs for a backend-side JSON check that must never accept what
 * `JSON.parse` refuses (Redis's pop script, PostgreSQL's `::json` cast):
 * random one-to-three-character edits of valid texts, reproducible by seed.
 */

/** Whether `JSON.parse` takes the text: the reference every backend check is held to. */
export function jsonParseAccepts(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A deterministic generator (mulberry32) in [0, 1), so a failure names a reproducible input. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface JsonMutationOptions {
  /** Valid texts to edit. */
  readonly bases: readonly string[];
  /** Characters (or short strings) an edit replaces or inserts. */
  readonly alphabet: readonly string[];
  /** How many edited texts. */
  readonly count: number;
  /** The generator's seed. */
  readonly seed: number;
}

/** `count` texts, each a base with one to three edits: insert, delete or replace a character. */
export function jsonMutations({ bases, alphabet, count, seed }: JsonMutationOptions): string[] {
  const next = seededRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const texts: string[] = [];
  for (let k = 0; k < count; k++) {
    let text = pick(bases);
    for (let m = 1 + Math.floor(next() * 3); m > 0; m--) {
      const at = Math.floor(next() * (text.length + 1));
      const op = next();
      if (op < 0.34) text = text.slice(0, at) + pick(alphabet) + text.slice(at);
      else if (op < 0.67) text = text.slice(0, at) + text.slice(at + 1);
      else text = text.slice(0, at) + pick(alphabet) + text.slice(at + 1);
    }
    texts.push(text);
  }
  return texts;
}
