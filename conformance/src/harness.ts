import type { SessionStore } from '@sessionkit/core';

/** Options the suite may ask `create` for; a harness passes them to the store's constructor. */
export interface CreateOptions {
  /** Milliseconds after the last write at which a session expires (only asked of stores declaring `ttl`). */
  readonly ttl?: number;
}

/**
 * Describes how to open the store under test across processes. The suite
 * spawns plain `node` children that `import(module)` and call
 * `module[exportName](location)` to get a store on the same data.
 */
export interface ProcessHarness {
  /** Absolute path or `file:` URL of an ES module (built JS, not TS) that opens the store. */
  readonly module: string;
  /** Name of the exported `(location: unknown) => SessionStore | Promise<SessionStore>`. Default: `openStore`. */
  readonly exportName?: string;
  /** A JSON-serialisable description of where `store`'s data lives (file path, URL + prefix, ...). */
  location(store: SessionStore): unknown;
}

/**
 * What a store author gives the suite. Every store must be fresh and empty,
 * and isolated from every other store `create` returns (own file, key prefix,
 * bucket prefix, database...).
 */
export interface ConformanceHarness<TStore extends SessionStore = SessionStore> {
  /** A fresh, empty store. */
  create(options?: CreateOptions): TStore | Promise<TStore>;
  /**
   * A second, independent handle on the same data as `store` (persistent
   * stores only). Enables persistence-across-reopen and two-handle concurrency tests.
   */
  reopen?(store: TStore): TStore | Promise<TStore>;
  /** Enables the cross-process concurrency tests. */
  processes?: ProcessHarness;
  /**
   * Writes one undecodable item at the end of `sessionId`'s history, bypassing
   * the codec (e.g. invalid JSON in the row). Enables the corrupt-data tests.
   */
  injectCorruptItem?(store: TStore, sessionId: string): Promise<void>;
  /** Called after each test with the stores the test created (already closed by the suite). */
  cleanup?(store: TStore): Promise<void>;
  /** Called once after the whole suite. */
  teardown?(): Promise<void>;
  /** Test ids this store does not meet, each with the written reason shown in the report. */
  waivers?: Readonly<Record<string, string>>;
  /**
   * Scales concurrency and size-heavy tests (1 = default). Use < 1 for slow
   * remote backends; never 0.
   */
  scale?: number;
}
