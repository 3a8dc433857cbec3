/**
 * Remembers where each store a harness opened keeps its data, which is what
 * `reopen` and `processes.location` both need. Every adapter's harness
 * would otherwise write the same WeakMap bookkeeping.
 *
 * ```ts
 * const stores = trackLocations((where: { path: string }) => new MyStore(where));
 * const harness = {
 *   create: () => stores.open({ path: freshFile() }),
 *   reopen: (store) => stores.open(stores.locationOf(store)),
 *   processes: { module, location: stores.locationOf },
 * };
 * ```
 */
export interface LocationTracker<TStore extends object, TLocation> {
  /** Opens a store at `location` and remembers it. */
  open(location: TLocation): TStore;
  /** Where `store` keeps its data; throws for a store this tracker did not open. */
  locationOf(store: object): TLocation;
}

export function trackLocations<TStore extends object, TLocation>(
  openStore: (location: TLocation) => TStore,
): LocationTracker<TStore, TLocation> {
  const locations = new WeakMap<object, TLocation>();
  return {
    open(location) {
      const store = openStore(location);
      locations.set(store, location);
      return store;
    },
    locationOf(store) {
      const location = locations.get(store);
      if (location === undefined) throw new Error('store was not created by this harness');
      return location;
    },
  };
}
