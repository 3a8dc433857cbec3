/**
 * Runs every benchmark in this folder, one after another (they share two
 * cores; running them in parallel would measure each other). Each writes its
 * own table to results/<name>.md; this prints them all at the end.
 *
 *   pnpm bench                # all
 *   pnpm bench sqlite redis   # some
 *   pnpm bench per-turn --quick   # flags go to every chosen benchmark
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const all = ['per-turn', 'many-sessions', 'sqlite', 'redis', 's3', 'postgres', 'decorators', 'cli-copy'];
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const names = args.filter((a) => !a.startsWith('--'));
const chosen = names.length ? names : all;
const tsx = here('../node_modules/.bin/tsx');
let failed = false;

for (const name of chosen) {
  const file = here(`./${name}.ts`);
  if (!existsSync(file)) {
    console.log(`-- ${name}: no benchmark file`);
    continue;
  }
  console.log(`\n== ${name}`);
  // s3rver's paged listing needs the legacy provider (see ENVIRONMENT notes).
  const result = spawnSync(tsx, [file, ...flags], {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --openssl-legacy-provider`.trim() },
  });
  if (result.status !== 0) failed = true;
}

for (const name of chosen) {
  const results = here(`./results/${name}${name === 'per-turn' && flags.includes('--quick') ? '-quick' : ''}.md`);
  if (existsSync(results)) console.log(`\n${readFileSync(results, 'utf8')}`);
}
process.exit(failed ? 1 : 0);
