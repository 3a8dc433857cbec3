import type { BindableStore, SessionItem, SessionStore } from './types.js';

/** A decorator turns a store into a store, so decorated stores pass the same conformance suite. */
export type StoreDecorator<TIn = SessionItem, TOut = TIn> = (store: SessionStore<TIn>) => BindableStore<TOut>;

// Each decorator's own return type is kept (e.g. FallbackStore with status()
// and resync()), so compose() never hides what the outermost layer offers.
type AnyStore = SessionStore<any>;

/**
 * `compose(base, a, b)` is `b(a(base))`: the first decorator sits nearest the
 * backend (put encryption first so the backend only ever sees ciphertext).
 */
export function compose<S extends AnyStore>(base: S): S;
export function compose<A extends AnyStore>(base: AnyStore, a: (store: AnyStore) => A): A;
export function compose<A extends AnyStore, B extends AnyStore>(
  base: AnyStore,
  a: (store: AnyStore) => A,
  b: (store: A) => B,
): B;
export function compose<A extends AnyStore, B extends AnyStore, C extends AnyStore>(
  base: AnyStore,
  a: (store: AnyStore) => A,
  b: (store: A) => B,
  c: (store: B) => C,
): C;
export function compose<A extends AnyStore, B extends AnyStore, C extends AnyStore, D extends AnyStore>(
  base: AnyStore,
  a: (store: AnyStore) => A,
  b: (store: A) => B,
  c: (store: B) => C,
  d: (store: C) => D,
): D;
export function compose<A extends AnyStore, B extends AnyStore, C extends AnyStore, D extends AnyStore, E extends AnyStore>(
  base: AnyStore,
  a: (store: AnyStore) => A,
  b: (store: A) => B,
  c: (store: B) => C,
  d: (store: C) => D,
  e: (store: D) => E,
): E;
export function compose<
  A extends AnyStore,
  B extends AnyStore,
  C extends AnyStore,
  D extends AnyStore,
  E extends AnyStore,
  F extends AnyStore,
>(
  base: AnyStore,
  a: (store: AnyStore) => A,
  b: (store: A) => B,
  c: (store: B) => C,
  d: (store: C) => D,
  e: (store: D) => E,
  f: (store: E) => F,
): F;
export function compose(base: AnyStore, ...decorators: Array<(store: AnyStore) => AnyStore>): BindableStore<any>;
export function compose(base: AnyStore, ...decorators: Array<(store: AnyStore) => AnyStore>): AnyStore {
  return decorators.reduce<AnyStore>((store, decorate) => decorate(store), base);
}
