import { readdir } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Kysely, Migration, MigrationProvider, MigrationResultSet } from "kysely";
import { Migrator } from "kysely";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../migrations/", import.meta.url));

/**
 * Imports migration files through whatever loader runs this module (tsx, vitest),
 * where Kysely's FileMigrationProvider would use Node's own import and fail on `.ts`.
 */
class FolderMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.dir))
      .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith(".d.ts"))
      .sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const mod = (await import(pathToFileURL(`${this.dir}/${file}`).href)) as Migration;
      migrations[file.replace(/\.(ts|js|mjs)$/, "")] = {
        up: mod.up,
        ...(mod.down ? { down: mod.down } : {}),
      };
    }
    return migrations;
  }
}

/**
 * Applies every pending migration. Kysely takes a Postgres advisory lock for the
 * run, so replicas starting together apply each migration exactly once.
 */
export async function migrateToLatest(db: Kysely<any>, dir = MIGRATIONS_DIR): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: new FolderMigrationProvider(dir) });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
