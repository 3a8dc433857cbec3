import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    adapter: 'src/adapter.ts',
    analytics: 'src/entries/analytics.ts',
    cache: 'src/entries/cache.ts',
    compaction: 'src/entries/compaction.ts',
    encryption: 'src/entries/encryption.ts',
    fallback: 'src/entries/fallback.ts',
    monitoring: 'src/entries/monitoring.ts',
  },
  format: ['esm'],
  dts: true,
  clean: true,
  target: 'node22',
});
