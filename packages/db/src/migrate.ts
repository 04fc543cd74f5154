import { pathToFileURL } from "node:url";
import { MIGRATIONS_DIR, migrationFiles, migrationName } from "@agentex/migrations";
import type { Kysely, Migration, MigrationProvider, MigrationResultSet } from "kysely";
import { Migrator } from "kysely";

export { MIGRATIONS_DIR };

/**
 * Imports migration files through whatever loader runs this module (tsx, vitest),
 * where Kysely's FileMigrationProvider would use Node's own import and fail on `.ts`.
 */
class FolderMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of migrationFiles(this.dir)) {
      const mod = (await import(pathToFileURL(`${this.dir}/${file}`).href)) as Migration;
      migrations[migrationName(file)] = {
        up: mod.up.bind(mod),
        ...(mod.down ? { down: mod.down.bind(mod) } : {}),
      };
    }
    return migrations;
  }
}

/**
 * Applies every pending migration (from @agentex/migrations, or `dir`: the compiled
 * server passes its compiled copy). Kysely takes a Postgres advisory lock for the
 * run, so replicas starting together apply each migration exactly once.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run below any typed schema, as Kysely's Migrator takes them
export async function migrateToLatest(db: Kysely<any>, dir = MIGRATIONS_DIR): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: new FolderMigrationProvider(dir) });
  const result = await migrator.migrateToLatest();
  if (result.error)
    throw result.error instanceof Error
      ? result.error
      : new Error("migration failed", { cause: result.error });
  return result;
}
