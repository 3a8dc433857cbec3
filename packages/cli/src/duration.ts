import { usage } from './errors.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `45s`, `2w` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (!match) throw usage(`${flag} takes a duration such as 30d, 12h, 90m or 45s (got "${text}")`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

/** The instant `text` ago. */
export function olderThan(text: string, flag = '--older-than', now = Date.now()): Date {
  return new Date(now - parseDuration(text, flag));
}
