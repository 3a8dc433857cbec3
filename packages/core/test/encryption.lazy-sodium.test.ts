import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Run in a child `node` against core's built dist (what a user imports), recording every resolved specifier.
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const hook = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
globalThis.__resolved = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); globalThis.__resolved.push(r.url); return r; } });
`)}`;

function resolvedAfter(script: string): string[] {
  const out = execFileSync(process.execPath, ['--import', hook, '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

describe('libsodium loads only for those who encrypt', () => {
  it('importing core does not load libsodium', () => {
    const urls = resolvedAfter(`await import(${JSON.stringify(dist)}); console.log(JSON.stringify(globalThis.__resolved));`);
    expect(urls.some((url) => url.includes('/core/dist/'))).toBe(true);
    expect(urls.filter((url) => url.includes('libsodium'))).toEqual([]);
  });

  it('the first encrypted operation loads it', () => {
    const urls = resolvedAfter(`
      const { MemoryStore, withEncryption } = await import(${JSON.stringify(dist)});
      const store = withEncryption({ keys: { k1: new Uint8Array(32).fill(7) }, primary: 'k1' })(new MemoryStore());
      await store.addItems('s', [{ role: 'user', content: 'hi' }]);
      const items = await store.getItems('s');
      if (items[0].content !== 'hi') throw new Error('round trip failed');
      console.log(JSON.stringify(globalThis.__resolved));`);
    expect(urls.some((url) => url.includes('libsodium'))).toBe(true);
  });
});
