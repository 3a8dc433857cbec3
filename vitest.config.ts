import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests import workspace packages from source, so a test run never depends on
// a stale build. Child processes spawned by tests use the built dist instead
// (`pnpm test` builds first).
const alias = {
  // Subpaths before their package: an alias matches by prefix, first entry wins.
  '@sessionkit/core/adapter': here('./packages/core/src/adapter.ts'),
  '@sessionkit/core/analytics': here('./packages/core/src/entries/analytics.ts'),
  '@sessionkit/core/cache': here('./packages/core/src/entries/cache.ts'),
  '@sessionkit/core/compaction': here('./packages/core/src/entries/compaction.ts'),
  '@sessionkit/core/encryption': here('./packages/core/src/entries/encryption.ts'),
  '@sessionkit/core/fallback': here('./packages/core/src/entries/fallback.ts'),
  '@sessionkit/core/monitoring': here('./packages/core/src/entries/monitoring.ts'),
  '@sessionkit/core': here('./packages/core/src/index.ts'),
  '@sessionkit/test-servers': here('./test-servers/src/index.ts'),
  '@sessionkit/conformance': here('./conformance/src/index.ts'),
  '@sessionkit/sqlite': here('./packages/sqlite/src/index.ts'),
  '@sessionkit/redis': here('./packages/redis/src/index.ts'),
  '@sessionkit/s3': here('./packages/s3/src/index.ts'),
  '@sessionkit/mongodb': here('./packages/mongodb/src/index.ts'),
  '@sessionkit/cli': here('./packages/cli/src/index.ts'),
  '@sessionkit/postgres': here('./packages/postgres/src/index.ts'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'core', include: ['packages/core/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'conformance', include: ['conformance/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'sqlite', include: ['packages/sqlite/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'redis', include: ['packages/redis/test/**/*.test.ts'] } },
      {
        extends: true,
        // s3rver's paged ListObjectsV2 continuation token uses DES.
        test: { name: 's3', include: ['packages/s3/test/**/*.test.ts'], execArgv: ['--openssl-legacy-provider'] },
      },
      { extends: true, test: { name: 'mongodb', include: ['packages/mongodb/test/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'cli', include: ['packages/cli/test/**/*.test.ts'], execArgv: ['--openssl-legacy-provider'], testTimeout: 120_000 },
      },
      { extends: true, test: { name: 'postgres', include: ['packages/postgres/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'examples', include: ['examples/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'repo', include: ['test/**/*.test.ts'] } },
    ],
  },
});
