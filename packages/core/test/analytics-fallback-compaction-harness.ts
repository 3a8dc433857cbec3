import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Relative imports: core cannot depend on these packages (they depend on core); vitest maps them to the same source files.
import * as kit from '../../../conformance/src/index.js';
import * as sqlite from '../../sqlite/src/index.js';
import { injectCorruptRow } from '../../sqlite/test/setup.js';
import { MemoryStore, type MemoryStoreOptions, type SessionStore } from '@sessionkit/core';
import { describe, it } from 'vitest';

// Shared by the conformance files of withAnalytics, withFallback and withCompaction:
// each decorator is run through the whole suite stacked on MemoryStore and on SqliteStore.

interface Harness {
  create(options?: { ttl?: number }): SessionStore | Promise<SessionStore>;
  reopen?(store: SessionStore): SessionStore | Promise<SessionStore>;
  teardown?(): Promise<void>;
  waivers?: Readonly<Record<string, string>>;
  injectCorruptItem?(store: SessionStore, sessionId: string): Promise<void>;
}

export interface StackConformanceOptions {
  /** Test ids the stack does not meet on any base store, each with its written reason. */
  readonly waivers?: Readonly<Record<string, string>>;
  /** Test ids the stack does not meet on stores that can be reopened, each with its written reason. */
  readonly reopenWaivers?: Readonly<Record<string, string>>;
  /**
   * Writes one item the stack cannot read at the end of a session, into the
   * stores beneath it (`opened(role)` is the store opened for that role).
   * Default: an undecodable item written past the codec into the base store
   * of role `corruptRole`, through that store's own conformance back door
   * (raw bytes into MemoryStore, a raw row into the SQLite file) — what the
   * base store's harness does. Enables the suite's corrupt-data tests.
   */
  readonly injectCorruptItem?: (opened: (role: string) => SessionStore, sessionId: string, store: SessionStore) => Promise<void>;
  /**
   * The role of the base store the default `injectCorruptItem` writes into:
   * the store that serves the stack's reads. Default: `'primary'` when the
   * stack opened one, else the only role it opened.
   */
  readonly corruptRole?: string;
  /**
   * A built-JS module exporting `openStore({ sqliteModule, files, ttl })` that
   * opens the same stack on the same SQLite files. Enables the cross-process
   * tests on SqliteStore (needs `pnpm build`; skipped by the suite otherwise).
   */
  readonly processModule?: string;
  /** Test ids the stack does not meet on SqliteStore only (with processes), each with its written reason. */
  readonly sqliteWaivers?: Readonly<Record<string, string>>;
}

// Children of the cross-process tests load the built packages.
const sqliteDist = fileURLToPath(new URL('../../sqlite/dist/index.js', import.meta.url));
const coreDist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

type Describe = (name: string, harness: Harness) => void;
const describeConformance = (kit as Record<string, unknown>).describeConformance as Describe | undefined;

type SqliteCtor = new (options: { path: string; ttl?: number }) => SessionStore;
const SqliteStore = (sqlite as Record<string, unknown>).SqliteStore as SqliteCtor | undefined;

/** What a stack is told about the harness running it. */
export interface StackContext {
  /**
   * True when the suite may open a second handle on the same data (reopen)
   * or children in other processes (SqliteStore); false on MemoryStore. A
   * stack whose decorator documents a multi-process mode uses it when true.
   */
  readonly shared: boolean;
}

/** `build(open)` stacks the decorator on stores made by `open(name)`, where `name` tells stores of one stack apart. */
export type Stack = (open: (role: string) => SessionStore, context: StackContext) => SessionStore;

/** MemoryStore with the back door its own conformance harness uses: bytes written past the codec. */
class InspectableMemoryStore extends MemoryStore {
  constructor(options?: MemoryStoreOptions) {
    super(options);
  }
  injectRaw(sessionId: string, encoded: string): Promise<void> {
    return this._addItems(sessionId, [encoded]);
  }
}

/** The base store's role the default corrupt-item hook writes into. */
function corruptRoleOf(opened: ReadonlyMap<string, SessionStore>, wanted: string | undefined): string {
  if (wanted !== undefined) return wanted;
  if (opened.has('primary')) return 'primary';
  if (opened.size === 1) return [...opened.keys()][0]!;
  throw new Error(`stack opened several stores (${[...opened.keys()].join(', ')}): set corruptRole`);
}

export function describeStackConformance(label: string, stack: Stack, options: StackConformanceOptions = {}): void {
  if (typeof describeConformance !== 'function') {
    console.warn(`!!! SKIPPED ${label} conformance: @sessionkit/conformance does not export describeConformance yet`);
    describe.skip(`${label} conformance`, () => it('needs describeConformance', () => {}));
    return;
  }
  // The stores beneath each stack, by role, for injectCorruptItem.
  const beneath = new WeakMap<SessionStore, Map<string, SessionStore>>();
  const openedOf = (store: SessionStore) => {
    const opened = beneath.get(store);
    if (!opened) throw new Error('store was not created by this harness');
    return opened;
  };
  const openedRole = (store: SessionStore) => (role: string) => {
    const found = openedOf(store).get(role);
    if (!found) throw new Error(`no store was opened for role ${role}`);
    return found;
  };
  const inject = options.injectCorruptItem;
  const stackRecording = (open: (role: string) => SessionStore, context: StackContext) => {
    const opened = new Map<string, SessionStore>();
    const store = stack((role) => {
      const inner = open(role);
      opened.set(role, inner);
      return inner;
    }, context);
    beneath.set(store, opened);
    return store;
  };
  describeConformance(`${label} on MemoryStore`, {
    create: (options = {}) =>
      stackRecording(() => new InspectableMemoryStore(options.ttl === undefined ? {} : { ttl: options.ttl }), { shared: false }),
    ...(options.waivers ? { waivers: options.waivers } : {}),
    injectCorruptItem: async (store, sessionId) => {
      if (inject) return inject(openedRole(store), sessionId, store);
      const base = openedRole(store)(corruptRoleOf(openedOf(store), options.corruptRole));
      await (base as InspectableMemoryStore).injectRaw(sessionId, '{"role": "user", "content": ');
    },
  });
  if (typeof SqliteStore !== 'function') {
    console.warn(`!!! SKIPPED ${label} on SqliteStore conformance: @sessionkit/sqlite does not export SqliteStore yet`);
    describe.skip(`${label} on SqliteStore conformance`, () => it('needs @sessionkit/sqlite', () => {}));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-decorators-'));
  let counter = 0;
  // Remembers where each stack's stores live so reopen() opens the same files.
  const places = new WeakMap<SessionStore, { files: Map<string, string>; ttl: number | undefined }>();
  const build = (files: Map<string, string>, ttl: number | undefined) => {
    const store = stackRecording(
      (role) => {
        let path = files.get(role);
        if (!path) files.set(role, (path = join(dir, `${++counter}-${role}.db`)));
        return new SqliteStore({ path, ...(ttl !== undefined ? { ttl } : {}) });
      },
      { shared: true },
    );
    places.set(store, { files, ttl });
    return store;
  };
  describeConformance(`${label} on SqliteStore`, {
    create: (options = {}) => build(new Map(), options.ttl),
    reopen: (store) => {
      const place = places.get(store);
      if (!place) throw new Error('store was not created by this harness');
      return build(place.files, place.ttl);
    },
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
    ...(options.waivers || options.reopenWaivers || options.sqliteWaivers
      ? { waivers: { ...options.waivers, ...options.reopenWaivers, ...options.sqliteWaivers } }
      : {}),
    injectCorruptItem: async (store, sessionId) => {
      if (inject) return inject(openedRole(store), sessionId, store);
      const role = corruptRoleOf(openedOf(store), options.corruptRole);
      const path = places.get(store)?.files.get(role);
      if (!path) throw new Error(`no SQLite file for role ${role}`);
      injectCorruptRow(path, sessionId);
    },
    ...(options.processModule && existsSync(sqliteDist) && existsSync(coreDist)
      ? {
          processes: {
            module: options.processModule,
            location: (store: SessionStore) => {
              const place = places.get(store);
              if (!place) throw new Error('store was not created by this harness');
              return { sqliteModule: sqliteDist, files: Object.fromEntries(place.files), ttl: place.ttl };
            },
          },
        }
      : {}),
  });
}

/**
 * For stacks with withEncryption: appends a well-formed envelope that fails
 * authentication (a valid item for the store beneath, DECRYPTION_FAILED above).
 */
export function injectUndecryptable(role: string, keyId: string) {
  return async (opened: (role: string) => SessionStore, sessionId: string) => {
    const envelope = { '$sk:enc': 1, k: keyId, n: Buffer.alloc(24, 1).toString('base64'), c: Buffer.alloc(40, 2).toString('base64') };
    await opened(role).addItems(sessionId, [envelope]);
  };
}
