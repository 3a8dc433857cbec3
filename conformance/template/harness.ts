// How the conformance kit opens the store: `npx sessionkit-conformance harness.ts`.
import type { ConformanceHarness } from '@sessionkit/conformance';
import { MyStore } from './my-store.ts';

export const harness: ConformanceHarness<MyStore> = {
  // A fresh, empty store each time, isolated from every other one.
  create: () => new MyStore(),
  // A second handle on the same data (a persistent store opens its file, URL or prefix again).
  reopen: (store) => new MyStore({ backend: store.backend }),
};
