/**
 * `pnpm build`:
 *  1. `tsc -b tsconfig.build.json`: type-checks every package and app through
 *     project references and emits each one's JavaScript and declarations
 *     (packages: dist/*.js + *.d.ts; apps: declarations in dist/types).
 *  2. The SDK's self-contained router types (build-client-types.mjs), and
 *     the workspace code it imports copied into its dist (build-client-inline.mjs),
 *     so the published package needs nothing from @agentex/*.
 *  3. esbuild bundles the two executables: the server (dist/main.js,
 *     dist/migrate.js; workspace code and pure-JS dependencies inlined, so the
 *     server starts as one node process without a loader) with its migrations
 *     compiled to dist/migrations, and the CLI (dist/agentex.js, everything
 *     inlined: the published CLI has no runtime dependencies).
 *  4. The operator console (vite build of apps/console into apps/console/dist).
 *  5. The embedded store's pre-initialised, pre-migrated image
 *     (apps/server/dist/embedded-image.tar.gz), from the compiled migrations.
 * Then it records the inputs' fingerprint, which `pnpm start` compares.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { FINGERPRINT_FILE, ROOT, buildFingerprint } from "./build-inputs.mjs";

const started = performance.now();
const fingerprint = buildFingerprint();
const step = (label) =>
  console.log(`build: ${label} (${((performance.now() - started) / 1000).toFixed(1)} s)`);

function run(args, label) {
  const res = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "inherit" });
  if (res.status !== 0) {
    console.error(`build: ${label} failed`);
    process.exit(res.status ?? 1);
  }
}

rmSync(FINGERPRINT_FILE, { force: true });

// 1. Declarations and per-package JavaScript.
run([join(ROOT, "node_modules/typescript/bin/tsc"), "-b", "tsconfig.build.json"], "tsc -b");
// Declarations keep the sources' `.ts` import specifiers; consumers resolve `.js`.
function fixDeclarations(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) fixDeclarations(path);
    else if (entry.name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8");
      const fixed = text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+?)\.ts\2/g, "$1$2$3.js$2");
      if (fixed !== text) writeFileSync(path, fixed);
    }
  }
}
for (const group of ["packages", "apps"]) {
  for (const pkg of readdirSync(join(ROOT, group))) {
    try {
      fixDeclarations(join(ROOT, group, pkg, "dist"));
    } catch (err) {
      if (err.code !== "ENOENT") throw err;
    }
  }
}
step("tsc -b");

// 2. The SDK's router types, and its workspace imports inlined.
run([join(ROOT, "scripts/build-client-types.mjs")], "client types");
run([join(ROOT, "scripts/build-client-inline.mjs")], "client inline");
step("client types");

// 3. The executables.
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
  // CommonJS dependencies inlined into an ES module still call require() for Node builtins.
  banner: {
    js: "import { createRequire as __agentexRequire } from 'node:module'; const require = __agentexRequire(import.meta.url);",
  },
};
const serverDist = join(ROOT, "apps/server/dist");
for (const entry of readdirSync(serverDist)) {
  if (entry !== "types") rmSync(join(serverDist, entry), { recursive: true, force: true });
}
await esbuild.build({
  ...common,
  entryPoints: {
    main: "apps/server/src/main.ts",
    migrate: "apps/server/src/migrate-cli.ts",
    "image-cli": "apps/server/src/image-cli.ts",
  },
  outdir: serverDist,
  // Kept as packages: PGlite loads its WASM and data files from beside its own module,
  // swagger-ui-dist serves its files from its package directory, kysely is shared with
  // the migrations, pg-native is pg's optional native driver (not installed).
  external: ["@electric-sql/pglite", "swagger-ui-dist", "kysely", "pg-native"],
});
// The migration files only (YYYY_MM_DD_NNNN_name.ts), not the package's index.
const migrations = readdirSync(join(ROOT, "migrations")).filter((f) =>
  /^\d{4}_\d{2}_\d{2}_\d{4}_\w+\.ts$/.test(f),
);
await esbuild.build({
  ...common,
  entryPoints: migrations.map((f) => join(ROOT, "migrations", f)),
  outdir: join(serverDist, "migrations"),
  sourcemap: false,
  external: ["kysely"],
});
await esbuild.build({
  ...common,
  entryPoints: { agentex: "apps/cli/src/bin.ts" },
  outdir: join(ROOT, "apps/cli/dist"),
  sourcemap: false,
  banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
});
step(`esbuild (server, ${migrations.length} migrations, cli)`);

// 4. The operator console (apps/console): a static page the server serves at /console.
// Type-checked first (vite only strips types), against the router's types like any client.
run(
  [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "apps/console/tsconfig.json", "--noEmit"],
  "console types",
);
const vite = spawnSync(
  process.execPath,
  [join(ROOT, "apps/console/node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"],
  {
    cwd: join(ROOT, "apps/console"),
    stdio: "inherit",
  },
);
if (vite.status !== 0) {
  console.error("build: console failed");
  process.exit(vite.status ?? 1);
}
step("console");

// 5. The embedded store's image, by the compiled server code itself.
run([join(serverDist, "image-cli.js")], "embedded image");
step("embedded image");

writeFileSync(FINGERPRINT_FILE, `${fingerprint}\n`);
console.log(`build: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
