import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  target: 'node22',
  // Adapters stay separate modules, loaded by dynamic import only when a URL names them.
  external: [/^@sessionkit\//, 'better-sqlite3', 'ioredis', 'cli-progress'],
});
