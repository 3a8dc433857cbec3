import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSessionError } from '@sessionkit/core';
import { describeConformance } from '@sessionkit/conformance';
// @ts-expect-error: plain JavaScript, as a third party might ship it; no declarations.
import { harness } from '../third-party-adapter/harness.mjs';
// @ts-expect-error: plain JavaScript, no declarations.
import { FileStore } from '../third-party-adapter/file-store.mjs';
// @ts-expect-error: plain JavaScript, no declarations.
import { withFileLock } from '../third-party-adapter/file-lock.mjs';

// The harness gives reopen and processes, so this runs the two-handle and
// the cross-process tests too (children import file-store.mjs, which needs
// the built @sessionkit/core).
describeConformance('FileStore (third-party example)', harness);

describe('the example FileStore lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-filelock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('breaks a lock left by a process that died', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const store = new FileStore({ dir });
    await store.addItems('s', [{ role: 'user', content: 'first' }]);
    writeFileSync(`${store.fileOf('s')}.lock`, JSON.stringify({ pid: dead, host: hostname(), token: 'crashed' }));
    await store.addItems('s', [{ role: 'user', content: 'after the crash' }]);
    expect(await store.getItems('s')).toHaveLength(2);
    await store.close();
  });

  it('waits for a live owner and gives up with BACKEND_UNAVAILABLE', async () => {
    const path = join(dir, 'held.lock');
    writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), token: 'someone-else' }));
    const error = await withFileLock(path, async () => 'ran', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isSessionError(error, 'BACKEND_UNAVAILABLE')).toBe(true);
    rmSync(path);
    expect(await withFileLock(path, async () => 'ran')).toBe('ran');
  });
});
