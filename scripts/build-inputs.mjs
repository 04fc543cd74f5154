/**
 * What the build is made from, and its fingerprint: `pnpm build` records it
 * (dist/.build-fingerprint) and `pnpm start` rebuilds when it differs, so a
 * fresh clone, a `git pull` or an edited source never runs a stale server.
 * Globs, not lists: new packages, routers and migrations are picked up.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const FINGERPRINT_FILE = join(ROOT, "apps/server/dist/.build-fingerprint");

function walk(dir, out) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else out.push(path);
  }
}

/** Each package's config files that shape its build, and the workspace's own. */
const PACKAGE_CONFIG = [
  "package.json",
  "tsconfig.build.json",
  "tsconfig.json",
  "index.html",
  "vite.config.ts",
];
const ROOT_CONFIG = [
  "package.json",
  "pnpm-lock.yaml",
  "tsconfig.json",
  "tsconfig.build.json",
  "tsconfig.build.base.json",
];

const present = (dir, names) => names.map((name) => join(dir, name)).filter((path) => existsSync(path));

function buildInputs() {
  const files = [];
  for (const group of ["packages", "apps"]) {
    for (const pkg of readdirSync(join(ROOT, group))) {
      const dir = join(ROOT, group, pkg);
      if (!statSync(dir).isDirectory()) continue;
      walk(join(dir, "src"), files);
      files.push(...present(dir, PACKAGE_CONFIG));
    }
  }
  walk(join(ROOT, "migrations"), files);
  walk(join(ROOT, "scripts"), files);
  files.push(...present(ROOT, ROOT_CONFIG));
  return files.sort();
}

export function buildFingerprint() {
  const hash = createHash("sha256");
  hash.update(process.version.split(".")[0]);
  for (const file of buildInputs())
    hash.update(relative(ROOT, file)).update("\0").update(readFileSync(file)).update("\0");
  return hash.digest("hex");
}

export function isBuildCurrent() {
  return existsSync(FINGERPRINT_FILE) && readFileSync(FINGERPRINT_FILE, "utf8").trim() === buildFingerprint();
}
