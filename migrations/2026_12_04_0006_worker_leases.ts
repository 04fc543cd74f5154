import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's documented practice: a migration must not depend on the schema's type at any later time
type AnyDb = Kysely<any>;

// Frozen once landed: schema changes go in a new file.
//
// `worker_leases`: one row per singleton job (the outbox retention purge, ...)
// naming the replica that runs it and until when. A replica takes a row only
// when it is free or its expiry has passed, so a dead replica's job moves on
// by itself; a replica that stops cleanly deletes its rows, and the job moves
// at once. Expiry is by the database's clock, the one clock all replicas share.
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("worker_leases")
    .addColumn("name", "text", (c) => c.primaryKey().check(sql`char_length(name) between 1 and 128`))
    // The holding replica's identity (the same id its row leases carry).
    .addColumn("owner", "text", (c) => c.notNull())
    // Who that is, for a person reading the table: host and process id.
    .addColumn("holder", "text", (c) => c.notNull())
    .addColumn("acquired_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("worker_leases").execute();
}
