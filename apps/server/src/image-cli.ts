/**
 * `pnpm build` step (compiled, run from dist/): builds the embedded store's
 * starting image from the compiled migrations. See embedded-image.ts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectEmbedded, migrateToLatest } from "@agentex/db";
import {
  COMPILED_MIGRATIONS_DIR,
  DIST_DIR,
  IMAGE_FILE,
  IMAGE_META_FILE,
  migrationsFingerprint,
} from "./embedded-image.ts";

if (!DIST_DIR || !COMPILED_MIGRATIONS_DIR)
  throw new Error("run the compiled image-cli (dist/image-cli.js) after compiling the migrations");
const started = performance.now();
const database = await connectEmbedded("memory://");
const result = await migrateToLatest(database.db, COMPILED_MIGRATIONS_DIR);
const dump = await database.pglite.dumpDataDir("gzip");
await database.close();
writeFileSync(join(DIST_DIR, IMAGE_FILE), Buffer.from(await dump.arrayBuffer()));
const migrations = (result.results ?? []).map((r) => r.migrationName);
writeFileSync(
  join(DIST_DIR, IMAGE_META_FILE),
  `${JSON.stringify({ fingerprint: migrationsFingerprint(COMPILED_MIGRATIONS_DIR), migrations }, null, 2)}\n`,
);
console.log(
  `embedded image: ${migrations.length} migrations, ${(dump.size / 2 ** 20).toFixed(1)} MiB, ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
