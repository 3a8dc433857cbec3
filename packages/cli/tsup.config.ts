import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Adapters stay separate modules, loaded by dynamic import only when a URL names them.
  external: [/^@sessionkit\//, 'better-sqlite3', 'ioredis', 'cli-progress'],
});
