import { configDefaults, defineConfig } from "vitest/config";

/**
 * The test projects. Every suite that touches storage runs on the embedded
 * store by default and on real Postgres when DATABASE_URL is set (.ci/run
 * does both). Vitest 4 reads projects from here via `--config`; each project
 * `extends` the root so the timeouts below apply to all of them.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "db", include: ["packages/db/test/**/*.test.ts"] } },
      { extends: true, test: { name: "core", include: ["packages/core/test/**/*.test.ts"] } },
      { extends: true, test: { name: "workers", include: ["packages/workers/test/**/*.test.ts"] } },
      { extends: true, test: { name: "api", include: ["packages/api/test/**/*.test.ts"] } },
      { extends: true, test: { name: "client", include: ["packages/client/test/**/*.test.ts"] } },
      { extends: true, test: { name: "cli", include: ["apps/cli/test/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "server",
          include: ["apps/server/test/**/*.test.ts"],
          // The multi-process and fault tests are their own project (below).
          exclude: [...configDefaults.exclude, "apps/server/test/faults/**"],
        },
      },
      // Real server processes, replicas, SIGKILL/SIGTERM, a private Postgres restarted under load:
      // one file at a time, so they never compete with each other for the 2 cores.
      {
        extends: true,
        test: { name: "faults", include: ["apps/server/test/faults/**/*.test.ts"], fileParallelism: false },
      },
    ],
  },
});
