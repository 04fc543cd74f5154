import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrationFiles } from "@agentex/migrations";
import { connectEmbedded, connectPostgres, migrateToLatest } from "../src/index.ts";
import { TEST_STORE, createTestDatabase } from "../src/testing.ts";
import pg from "pg";
import { randomBytes } from "node:crypto";

const TABLES = [
  "agent_api_keys",
  "agent_renames",
  "agents",
  "api_tokens",
  "deployment_history",
  "deployments",
  "event_counter",
  "events",
  "grants",
  "idempotency_keys",
  "principals",
  "promotions",
  "worker_leases",
];
/** Every migration file, each applied exactly once. */
const MIGRATION_COUNT = migrationFiles().length;

async function tablesOf(db: Parameters<typeof migrateToLatest>[0]) {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(db);
  return rows.map((r) => r.table_name);
}

describe(`migrations (${TEST_STORE})`, () => {
  // Initialising PGlite takes seconds, more on a loaded machine: a generous limit, not a speed claim.
  it("apply from empty and are idempotent", { timeout: 120_000 }, async () => {
    if (TEST_STORE === "embedded") {
      const store = await connectEmbedded("memory://");
      const first = await migrateToLatest(store.db);
      expect(first.results?.map((r) => r.status)).toEqual(Array(MIGRATION_COUNT).fill("Success"));
      const again = await migrateToLatest(store.db);
      expect(again.results).toEqual([]);
      expect(await tablesOf(store.db)).toEqual(expect.arrayContaining(TABLES));
      await store.close();
      return;
    }
    const adminUrl = process.env.DATABASE_URL!;
    const name = `agentex_m_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    // Two "replicas" migrating the same empty database at once.
    const a = connectPostgres({ url: u.toString() });
    const b = connectPostgres({ url: u.toString() });
    try {
      const [ra, rb] = await Promise.all([migrateToLatest(a.db), migrateToLatest(b.db)]);
      const applied = [...(ra.results ?? []), ...(rb.results ?? [])].filter((r) => r.status === "Success");
      expect(applied).toHaveLength(MIGRATION_COUNT);
      expect(await tablesOf(a.db)).toEqual(TABLES);
    } finally {
      await a.close();
      await b.close();
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    }
  });

  it("enforce one live agent per name and one production deployment per agent in the schema", async () => {
    const store = await createTestDatabase();
    try {
      const db = store.db;
      await db.insertInto("agents").values({ name: "dup", status: "Ready" }).execute();
      await expect(
        db.insertInto("agents").values({ name: "dup", status: "BuildOnly" }).execute(),
      ).rejects.toThrow();
      await db.updateTable("agents").set({ status: "Deleted" }).where("name", "=", "dup").execute();
      await db.insertInto("agents").values({ name: "dup", status: "BuildOnly" }).execute();
      const agent = await db
        .selectFrom("agents")
        .select("id")
        .where("status", "=", "BuildOnly")
        .executeTakeFirstOrThrow();
      await db.insertInto("deployments").values({ agent_id: agent.id, is_production: true }).execute();
      await expect(
        db.insertInto("deployments").values({ agent_id: agent.id, is_production: true }).execute(),
      ).rejects.toThrow();
      await expect(
        db.insertInto("agents").values({ name: "Bad Name", status: "Ready" }).execute(),
      ).rejects.toThrow();
    } finally {
      await store.close();
    }
  });
});
