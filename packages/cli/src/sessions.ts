import { createHash } from 'node:crypto';
import { SessionError, SessionErrorCode, type SessionInfo, type SessionStore } from '@sessionkit/core';
import { canonicalize, encodeItem, hasListSessions } from '@sessionkit/core/adapter';

/** Every session of a store, or the named ones (whose info is read one by one). */
export async function* sessionsOf(store: SessionStore, ids?: readonly string[]): AsyncIterable<SessionInfo> {
  if (ids && ids.length > 0) {
    for (const sessionId of ids) {
      const info = store.getSessionInfo ? await store.getSessionInfo(sessionId) : undefined;
      if (info) yield info;
      else {
        const items = await store.getItems(sessionId);
        if (items.length > 0) yield { sessionId, itemCount: items.length, createdAt: new Date(0), updatedAt: new Date(0) };
      }
    }
    return;
  }
  if (!hasListSessions(store)) {
    throw new SessionError(SessionErrorCode.Unsupported, 'this store cannot list its sessions; name the session ids');
  }
  yield* store.listSessions({ pageSize: 500 });
}

/** SHA-256 over the canonical form of every item (key order does not matter), hex. */
export function historyHash(items: readonly unknown[]): string {
  const hash = createHash('sha256');
  for (const item of items) {
    hash.update(canonical(item));
    hash.update('\n');
  }
  return hash.digest('hex');
}

export function sameHistory(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (canonical(a[i]) !== canonical(b[i])) return false;
  return true;
}

/** The key-order-free text of one item (core's canonical form of its encoding). */
export function canonical(item: unknown): string {
  return canonicalize(encodeItem(item));
}
