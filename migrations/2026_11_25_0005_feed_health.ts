import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's documented practice: a migration must not depend on the schema's type at any later time
type AnyDb = Kysely<any>;

// Frozen once landed: schema changes go in a new file.
//
// The change feed's outbox and the health checker's leases.
export async function up(db: AnyDb): Promise<void> {
  // One row per change, written in the transaction of the change. Ids come
  // from `event_counter`, whose single row every event-writing transaction
  // updates just before commit: the row lock serialises them, so ids are
  // contiguous and committed in id order (a bigserial would hand out ids at
  // insert time, and a later id could commit first and be read before an
  // earlier one).
  await db.schema
    .createTable("events")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("agent_id", "uuid", (c) => c.notNull())
    .addColumn("deployment_id", "uuid")
    // Principals holding a grant on the agent when the change committed (admins and the agent itself always see it).
    .addColumn("readers", sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .addColumn("data", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("events_created_idx").on("events").column("created_at").execute();

  await db.schema
    .createTable("event_counter")
    .addColumn("one", "boolean", (c) =>
      c
        .primaryKey()
        .defaultTo(true)
        .check(sql`one`),
    )
    .addColumn("last_id", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`insert into event_counter (one, last_id) values (true, 0)`.execute(db);

  // Health checks: consecutive results for the URL they were taken against,
  // when the next probe is due, and a lease held by the replica probing now.
  for (const table of ["agents", "deployments"]) {
    await db.schema
      .alterTable(table)
      .addColumn("health_url", "text")
      .addColumn("health_failures", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("health_successes", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("health_next_at", "timestamptz")
      .addColumn("health_lease_until", "timestamptz")
      .addColumn("health_lease", "uuid")
      .execute();
  }
  await db.schema
    .alterTable("deployments")
    .addColumn("health", "text", (c) =>
      c
        .notNull()
        .defaultTo("Unknown")
        .check(sql`health in ('Unknown', 'Healthy', 'Unhealthy')`),
    )
    .addColumn("health_reason", "text")
    .execute();
  await sql`create index agents_health_due_idx on agents (health_next_at) where status in ('Ready', 'Unhealthy')`.execute(
    db,
  );
  await sql`create index deployments_health_due_idx on deployments (health_next_at) where status = 'Ready' and expires_at is null`.execute(
    db,
  );
}

export async function down(db: AnyDb): Promise<void> {
  await sql`drop index deployments_health_due_idx`.execute(db);
  await sql`drop index agents_health_due_idx`.execute(db);
  await db.schema.alterTable("deployments").dropColumn("health").dropColumn("health_reason").execute();
  for (const table of ["agents", "deployments"]) {
    await db.schema
      .alterTable(table)
      .dropColumn("health_url")
      .dropColumn("health_failures")
      .dropColumn("health_successes")
      .dropColumn("health_next_at")
      .dropColumn("health_lease_until")
      .dropColumn("health_lease")
      .execute();
  }
  await db.schema.dropTable("event_counter").execute();
  await db.schema.dropTable("events").execute();
}
