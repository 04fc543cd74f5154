import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrationFiles } from "@agentex/migrations";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./database.ts";
import { connectEmbedded } from "./embedded.ts";
import { connectPostgres } from "./postgres.ts";
import { MIGRATIONS_DIR, migrateToLatest } from "./migrate.ts";

/** Which store the suites run on: real Postgres when DATABASE_URL is set, else embedded. */
export const TEST_STORE: "postgres" | "embedded" = process.env.DATABASE_URL ? "postgres" : "embedded";

export interface TestDatabase extends Database {
  /** Postgres URL of this test's own database (postgres store only). */
  url: string | null;
}

/**
 * A migrated, empty database of its own for one test file. On Postgres: a
 * scratch database, dropped at close. Embedded: a PGlite restored from a
 * migrated snapshot cached on disk (creating and migrating one takes seconds).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  return TEST_STORE === "postgres" ? scratchPostgres() : embeddedFromSnapshot();
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** An empty database of its own on `adminUrl`'s server (no migrations applied), and how to drop it. */
export async function scratchDatabase(
  adminUrl: string,
  prefix = "agentex_t",
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    async drop() {
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      try {
        await cleanup.query(`drop database if exists ${name} with (force)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

async function scratchPostgres(): Promise<TestDatabase> {
  const scratch = await scratchDatabase(process.env.DATABASE_URL!);
  const database = connectPostgres({ url: scratch.url, max: 40 });
  await migrateToLatest(database.db);
  return {
    ...database,
    url: scratch.url,
    async close() {
      await database.close();
      await scratch.drop();
    },
  };
}

function migrationsFingerprint(): string {
  const hash = createHash("sha256");
  for (const file of migrationFiles()) {
    hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  }
  return hash.digest("hex").slice(0, 16);
}

async function embeddedFromSnapshot(): Promise<TestDatabase> {
  const snapshot = join(tmpdir(), `agentex-pglite-${migrationsFingerprint()}.tar`);
  if (!existsSync(snapshot)) {
    const fresh = await connectEmbedded("memory://");
    await migrateToLatest(fresh.db);
    const dump = await fresh.pglite.dumpDataDir("none");
    await fresh.close();
    const tmp = `${snapshot}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, snapshot); // atomic: parallel workers never read half a file
  }
  const blob = new Blob([readFileSync(snapshot)]);
  const database = await connectEmbedded("memory://", blob);
  return { ...database, url: null };
}

/** For tests that need a second, independent pool on the same Postgres database. */
export function rawPostgres(url: string): Kysely<unknown> {
  return new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }),
  });
}
