import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/vitest.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  target: 'node22',
  external: ['vitest'],
});
