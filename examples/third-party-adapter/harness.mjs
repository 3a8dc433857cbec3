// The conformance harness for FileStore. Run it with the CLI:
//   node conformance/dist/cli.js examples/third-party-adapter/harness.mjs   (from the repository root, after pnpm build)
// or from vitest with describeConformance (see ../test/third-party-adapter.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from './file-store.mjs';

const root = mkdtempSync(join(tmpdir(), 'sessionkit-filestore-'));
let counter = 0;

/** @type {import('@sessionkit/conformance').ConformanceHarness<FileStore>} */
export const harness = {
  // A fresh directory per store keeps stores isolated from each other.
  create: () => new FileStore({ dir: join(root, String(++counter)) }),
  // Another handle on the same directory: enables the persistence and two-handle tests.
  reopen: (store) => new FileStore({ dir: store.dir }),
  // Child processes import file-store.mjs and call openStore({ dir }): enables
  // the cross-process tests. A persistent store should always give both
  // reopen and processes, or the kit cannot check what it claims.
  processes: {
    module: fileURLToPath(new URL('./file-store.mjs', import.meta.url)),
    exportName: 'openStore',
    location: (store) => ({ dir: store.dir }),
  },
  // Appends text that is not JSON straight into the file, past the codec.
  async injectCorruptItem(store, sessionId) {
    const file = store.fileOf(sessionId);
    const data = JSON.parse(await readFile(file, 'utf8'));
    data.items.push('{"role": "user", "content": ');
    await writeFile(file, JSON.stringify(data));
  },
  cleanup: async (store) => rmSync(store.dir, { recursive: true, force: true }),
  teardown: async () => rmSync(root, { recursive: true, force: true }),
};
