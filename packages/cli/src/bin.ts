#!/usr/bin/env node
import { run } from './main.js';

// Ctrl-C: the first one lets in-flight sessions finish and records them in the
// checkpoint (so the copy resumes exactly); a second one exits at once (still
// resumable: every session write is atomic).
const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write('\ninterrupted: finishing sessions in flight (Ctrl-C again to stop now)\n');
  controller.abort();
});

const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal });
process.exitCode = controller.signal.aborted ? 130 : code;
