/**
 * The schema's migrations: each `YYYY_MM_DD_NNNN_<name>.ts` file here is one
 * migration, applied in name order by `migrateToLatest` (packages/db) and
 * frozen once landed. This folder is its own package so that everything else
 * finds it by name (`@agentex/migrations`) rather than by a relative path out
 * of another package. scripts/build.mjs compiles the same files into
 * apps/server/dist/migrations for the compiled server.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** This folder: the migrations as source. */
export const MIGRATIONS_DIR = fileURLToPath(new URL(".", import.meta.url));

const MIGRATION_FILE = /^\d{4}_\d{2}_\d{2}_\d{4}_\w+\.(ts|js|mjs)$/;
const EXTENSION = /\.(ts|js|mjs)$/;

/** The migration files in `dir` (this folder, or a compiled copy of it), in the order they apply. */
export function migrationFiles(dir = MIGRATIONS_DIR): string[] {
  return readdirSync(dir)
    .filter((file) => MIGRATION_FILE.test(file))
    .sort();
}

/** A migration's name as Kysely records it: its file name without the extension. */
export function migrationName(file: string): string {
  return file.replace(EXTENSION, "");
}
