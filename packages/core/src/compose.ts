import type { BindableStore, SessionItem, SessionStore } from './types.js';

/** A decorator turns a store into a store, so decorated stores pass the same conformance suite. */
export type StoreDecorator<TIn = SessionItem, TOut = TIn> = (store: SessionStore<TIn>) => BindableStore<TOut>;

/**
 * `compose(base, a, b)` is `b(a(base))`: the first decorator sits nearest the
 * backend (put encryption first so the backend only ever sees ciphertext).
 */
export function compose<T, S extends SessionStore<T>>(base: S): S;
export function compose<T, U>(base: SessionStore<T>, a: StoreDecorator<T, U>): BindableStore<U>;
export function compose<T, U, V>(base: SessionStore<T>, a: StoreDecorator<T, U>, b: StoreDecorator<U, V>): BindableStore<V>;
export function compose<T, U, V, W>(
  base: SessionStore<T>,
  a: StoreDecorator<T, U>,
  b: StoreDecorator<U, V>,
  c: StoreDecorator<V, W>,
): BindableStore<W>;
export function compose(base: SessionStore<any>, ...decorators: StoreDecorator<any, any>[]): BindableStore<any>;
export function compose(base: SessionStore<any>, ...decorators: StoreDecorator<any, any>[]): SessionStore<any> {
  return decorators.reduce<SessionStore<any>>((store, decorate) => decorate(store), base);
}
