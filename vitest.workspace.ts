import { defineConfig } from 'vitest/config';

/**
 * The test projects. Every suite that touches storage runs on the embedded
 * store by default and on real Postgres when DATABASE_URL is set (.ci/run
 * does both). Vitest 4 reads projects from here via `--config`.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { test: { name: 'db', include: ['packages/db/test/**/*.test.ts'] } },
      { test: { name: 'api', include: ['packages/api/test/**/*.test.ts'] } },
      { test: { name: 'client', include: ['packages/client/test/**/*.test.ts'] } },
      { test: { name: 'server', include: ['apps/server/test/**/*.test.ts'] } },
    ],
  },
});
