// Time of `import('@sessionkit/core')` in a fresh node process: node bench/import-time.mjs [dist/index.js] [runs]
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = process.argv[2] ? resolve(process.argv[2]) : fileURLToPath(new URL('../packages/core/dist/index.js', import.meta.url));
const runs = Number(process.argv[3] ?? 15);
const script = `const t = performance.now(); await import(${JSON.stringify(dist)}); console.log(performance.now() - t);`;
const times = [];
for (let i = 0; i < runs; i++) times.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })));
times.sort((a, b) => a - b);
console.log(`${dist}: median ${times[runs >> 1].toFixed(1)} ms, min ${times[0].toFixed(1)}, max ${times[runs - 1].toFixed(1)} (${runs} runs)`);
