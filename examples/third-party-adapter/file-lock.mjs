// A cross-process lock from node built-ins only: a lock file that appears
// atomically with its contents, so every process on the machine (not just
// this one) takes turns on one session's read-modify-write.
//
// Why link() and not open(path, 'wx') + write: with 'wx' a waiter can read the
// lock file between its creation and the owner's write, see no owner, and
// wrongly call it stale. Writing the owner to a private file first and then
// hard-linking it to the lock name is just as exclusive (link fails with
// EEXIST) and the lock is never seen half-written.
import { hostname } from 'node:os';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { SessionError, SessionErrorCode } from '@sessionkit/core';

const HOST = hostname();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when `owner` (a parsed lock file) is a process on this machine that no longer runs. */
function ownerIsGone(owner) {
  if (!owner || owner.host !== HOST || !Number.isInteger(owner.pid)) return false; // another machine: cannot tell, so wait
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return error.code === 'ESRCH';
  }
}

async function readOwner(path) {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Breaks the lock at `path` if, and only if, it is still the stale one we saw.
 * Renaming first means two waiters can never both delete it: only one rename
 * wins, and the winner checks it took the stale lock and not a new live one
 * (if it did, it puts that one back).
 */
async function breakStale(path, stale) {
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (error.code === 'ENOENT') return; // someone else broke or released it
    throw error;
  }
  const taken = await readOwner(aside);
  if (taken?.token !== stale.token) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
}

/**
 * Runs `task` while holding the lock file `path`. Waits (with jittered
 * backoff) while another live process holds it; a lock left by a process that
 * died is broken. Options: `timeoutMs` (default 30 000): give up with
 * BACKEND_UNAVAILABLE after waiting that long.
 */
export async function withFileLock(path, task, { timeoutMs = 30_000 } = {}) {
  const token = randomUUID();
  const mine = `${path}.${token}.owner`;
  await writeFile(mine, JSON.stringify({ pid: process.pid, host: HOST, token }));
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  try {
    for (;;) {
      try {
        await link(mine, path);
        break;
      } catch (error) {
        if (error.code !== 'EEXIST') throw error;
      }
      const owner = await readOwner(path).catch(() => undefined);
      if (ownerIsGone(owner)) {
        await breakStale(path, owner);
        continue;
      }
      if (Date.now() > deadline) {
        throw new SessionError(SessionErrorCode.BackendUnavailable, `timed out after ${timeoutMs} ms waiting for a session lock`);
      }
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 50);
    }
  } finally {
    await unlink(mine).catch(() => {});
  }
  try {
    return await task();
  } finally {
    // Release only our own lock (a live owner's lock is never broken, so this is a formality).
    if ((await readOwner(path).catch(() => undefined))?.token === token) await unlink(path).catch(() => {});
  }
}
