import { seededRandom } from '../conformance/src/fault-injection.js';

/**
 * A seeded shuffler (Fisher–Yates), so runs repeat: the benchmarks take the stacks' turns in an order
 * shuffled every turn, because a fixed cycle always ran each stack right after the same one, and a stack
 * following another of its own backend found it warm.
 */
export function seededShuffle(seed: number): <T>(list: readonly T[]) => T[] {
  const random = seededRandom(seed);
  return <T>(list: readonly T[]): T[] => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
}
