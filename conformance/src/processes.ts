import { spawn } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SessionStore } from '@sessionkit/core';
import type { ProcessJob } from './conformance-test.js';
import type { ProcessHarness } from './harness.js';

// The child is plain Node running this ES module text, so the kit needs no
// file of its own on disk and works the same from source and from dist. It
// opens the store, says "ready", waits for "go" so every child starts at
// once, runs its job and prints one JSON line.
const WORKER = `
const [moduleUrl, exportName, locationJson, jobJson] = process.argv.slice(1);
const mod = await import(moduleUrl);
const open = mod[exportName];
if (typeof open !== 'function') throw new Error('module does not export ' + exportName);
const store = await open(JSON.parse(locationJson));
const job = JSON.parse(jobJson);
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
let result;
try {
  if (job.kind === 'append') {
    for (let b = 0; b < job.batches; b++) {
      const items = [];
      for (let i = 0; i < job.batchSize; i++) items.push({ role: 'user', content: 'p' + job.writer + '-b' + b + '-i' + i });
      await store.addItems(job.sessionId, items);
    }
    result = { ok: true };
  } else if (job.kind === 'transact') {
    for (let b = 0; b < job.batches; b++) {
      const items = [];
      for (let i = 0; i < job.batchSize; i++) items.push({ role: 'user', content: 'p' + job.writer + '-b' + b + '-i' + i });
      await store.applyHistoryTransaction(job.sessionId, { operationId: 'p' + job.writer + '-op' + b, transaction: { type: 'append_items', items } });
    }
    result = { ok: true };
  } else if (job.kind === 'replace') {
    const asItems = (texts) => texts.map((content) => ({ role: 'user', content }));
    for (let r = 0; r < job.rounds; r++) await store.replaceHistory(job.sessionId, asItems(job.histories[r % job.histories.length]));
    await store.replaceHistory(job.sessionId, asItems(job.done));
    result = { ok: true };
  } else if (job.kind === 'watch') {
    const key = (texts) => JSON.stringify(texts);
    const valid = new Set([...job.histories, job.done].map(key));
    const doneKey = key(job.done);
    const bad = [];
    let reads = 0;
    let finished = false;
    const until = Date.now() + job.maxMs;
    while (Date.now() < until) {
      const seen = key((await store.getItems(job.sessionId)).map((item) => item?.content));
      reads++;
      if (!valid.has(seen) && bad.length < 5) bad.push(seen);
      if (seen === doneKey) { finished = true; break; }
    }
    result = { ok: true, reads, bad, finished };
  } else {
    const popped = [];
    for (let i = 0; i < job.count; i++) popped.push((await store.popItem(job.sessionId)) ?? null);
    result = { ok: true, popped };
  }
} catch (error) {
  result = { ok: false, code: error?.code, message: String(error?.message ?? error) };
}
await store.close();
process.stdout.write(JSON.stringify(result) + '\\n');
process.stdin.destroy();
`;

interface Child {
  ready: Promise<void>;
  done: Promise<unknown>;
  go(): void;
  kill(): void;
}

function startChild(processes: ProcessHarness, location: unknown, job: ProcessJob, timeoutMs: number): Child {
  const moduleUrl = isAbsolute(processes.module) ? pathToFileURL(processes.module).href : processes.module;
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', WORKER, moduleUrl, processes.exportName ?? 'openStore', JSON.stringify(location), JSON.stringify(job)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.startsWith('ready\n')) markReady();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<unknown>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').filter(Boolean).pop();
      if (code === 0 && line && line !== 'ready') {
        try {
          resolve(JSON.parse(line));
          return;
        } catch {
          // fall through to the failure below
        }
      }
      reject(new Error(`child process failed (exit ${code ?? signal}): ${stderr.trim().slice(-2000) || 'no output'}`));
    });
  });
  // A child that dies before "ready" must not leave the parent waiting.
  done.catch(() => markReady());
  return {
    ready,
    done,
    go: () => child.stdin.write('go\n'),
    kill: () => child.kill('SIGKILL'),
  };
}

/** Runs each job in its own `node` child on the same data, started together; resolves with their results in order. */
export async function runProcessJobs(
  processes: ProcessHarness,
  store: SessionStore,
  jobs: readonly ProcessJob[],
  timeoutMs = 60_000,
): Promise<unknown[]> {
  const location = processes.location(store);
  const children = jobs.map((job) => startChild(processes, location, job, timeoutMs));
  try {
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.go();
    return await Promise.all(children.map((child) => child.done));
  } finally {
    for (const child of children) child.kill();
  }
}
