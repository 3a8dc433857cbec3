import { describeConformance } from '@sessionkit/conformance';
import { MemoryStore, type MemoryStoreOptions } from '@sessionkit/core';

/** MemoryStore with a back door for the corrupt-data tests: writes bytes past the codec. */
class InspectableMemoryStore extends MemoryStore {
  constructor(options?: MemoryStoreOptions) {
    super(options);
  }
  injectRaw(sessionId: string, encoded: string): Promise<void> {
    return this._addItems(sessionId, [encoded]);
  }
}

describeConformance('MemoryStore', {
  create: (options = {}) => new InspectableMemoryStore(options.ttl === undefined ? {} : { ttl: options.ttl }),
  injectCorruptItem: (store, sessionId) => (store as InspectableMemoryStore).injectRaw(sessionId, '{"role": "user", "content": '),
});
