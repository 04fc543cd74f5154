/**
 * The embedded store's starting image: a PGlite data directory that has
 * already been through initdb and every migration, dumped to a tarball at
 * `pnpm build` (image-cli.ts) and loaded into a fresh data directory at start.
 *
 * Without it, PGlite's first start on an empty directory boots a second,
 * throw-away PGlite instance plus initdb's own WASM module, runs initdb inside
 * WASM, dumps that directory and unpacks it into the real one, then the
 * migrations run: most of a 12–18 s first start, after which the process
 * keeps ~850 MB RSS.
 *
 * The image is fingerprinted by the compiled migrations it was built from; an
 * image that does not match the migrations shipped beside it is ignored (the
 * slow path still works), and the server always runs pending migrations after
 * loading it, as on any existing directory.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Set when this module runs compiled (dist/*.js): the directory of the bundle. */
export const DIST_DIR = import.meta.url.endsWith(".js")
  ? fileURLToPath(new URL("./", import.meta.url))
  : null;
/** The migrations compiled beside the bundle (dist/migrations), or null from source. */
export const COMPILED_MIGRATIONS_DIR =
  DIST_DIR && existsSync(join(DIST_DIR, "migrations")) ? join(DIST_DIR, "migrations") : null;

export const IMAGE_FILE = "embedded-image.tar.gz";
export const IMAGE_META_FILE = "embedded-image.json";

export function migrationsFingerprint(dir: string): string {
  const hash = createHash("sha256");
  for (const file of readdirSync(dir)
    .filter((f) => /\.(js|mjs|ts)$/.test(f))
    .sort()) {
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(join(dir, file)))
      .update("\0");
  }
  return hash.digest("hex");
}

/** The image built for the migrations shipped beside it, or null (from source, not built, or stale). */
export function loadEmbeddedImage(): Blob | null {
  if (!DIST_DIR || !COMPILED_MIGRATIONS_DIR) return null;
  const tar = join(DIST_DIR, IMAGE_FILE);
  const meta = join(DIST_DIR, IMAGE_META_FILE);
  if (!existsSync(tar) || !existsSync(meta)) return null;
  try {
    const { fingerprint } = JSON.parse(readFileSync(meta, "utf8")) as { fingerprint?: string };
    if (fingerprint !== migrationsFingerprint(COMPILED_MIGRATIONS_DIR)) return null;
    return new Blob([readFileSync(tar)], { type: "application/x-gzip" });
  } catch {
    return null;
  }
}
