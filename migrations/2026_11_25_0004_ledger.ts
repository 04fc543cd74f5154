import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's documented practice: a migration must not depend on the schema's type at any later time
type AnyDb = Kysely<any>;

// Frozen once landed: schema changes go in a new file.
//
// `promotions` is the production ledger: one row per change of an agent's
// production deployment, written in the transaction that makes the change.
// Rows are immutable: a trigger refuses UPDATE, DELETE and TRUNCATE, so no
// code path (and no mistaken manual statement) can rewrite history.
//
// `idempotency_keys` holds the first answer to a mutation sent with an
// Idempotency-Key, per caller, for 24 h. A row exists only once its first
// request committed (it is inserted in that request's transaction), so a
// duplicate either waits on the unique key or finds the finished answer.
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("promotions")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("agent_id", "uuid", (c) => c.notNull().references("agents.id"))
    .addColumn("from_deployment_id", "uuid", (c) => c.references("deployments.id"))
    .addColumn("to_deployment_id", "uuid", (c) => c.references("deployments.id"))
    .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('promote', 'rollback', 'cleared')`))
    // A rollback undoes every still-effective row of the agent from this id on.
    .addColumn("undoes_id", "bigint", (c) => c.references("promotions.id"))
    .addColumn("actor_kind", "text", (c) => c.notNull())
    .addColumn("actor_id", "uuid", (c) => c.notNull())
    .addColumn("actor_name", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.check(sql`char_length(reason) <= 1000`))
    .addColumn("request_id", "text", (c) => c.notNull())
    // clock_timestamp(), not now(): taken while the agent row is locked, so an
    // agent's rows are in time order even when their transactions started in
    // another order. Millisecond precision, the precision of the wire's ISO
    // strings, so an `at` read from the ledger asks exactly about that row.
    .addColumn("at", "timestamptz", (c) =>
      c.notNull().defaultTo(sql`date_trunc('milliseconds', clock_timestamp())`),
    )
    .addCheckConstraint("promotions_changes_check", sql`from_deployment_id is distinct from to_deployment_id`)
    .addCheckConstraint("promotions_undoes_check", sql`(kind = 'rollback') = (undoes_id is not null)`)
    .execute();
  await sql`create index promotions_agent_idx on promotions (agent_id, id desc)`.execute(db);
  await sql`create index promotions_agent_at_idx on promotions (agent_id, at desc, id desc)`.execute(db);
  await sql`create function promotions_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'the promotions ledger is append-only' using errcode = 'P0001';
    end
  $$`.execute(db);
  await sql`create trigger promotions_no_update before update or delete on promotions
    for each row execute function promotions_immutable()`.execute(db);
  await sql`create trigger promotions_no_truncate before truncate on promotions
    for each statement execute function promotions_immutable()`.execute(db);

  await db.schema
    .createTable("idempotency_keys")
    // The caller: principal id, or the agent id for an agent key, with its kind.
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("procedure", "text", (c) => c.notNull())
    .addColumn("request_hash", "text", (c) => c.notNull())
    // The first answer, sealed (AES-256-GCM under a key derived from
    // AGENTEX_SECRET_KEY): answers may carry a token or an agent key, and a
    // copy of the database must not yield a usable credential.
    .addColumn("response", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("idempotency_keys_pk", ["scope", "key"])
    .execute();
  await db.schema
    .createIndex("idempotency_keys_expires_idx")
    .on("idempotency_keys")
    .column("expires_at")
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("idempotency_keys").execute();
  await db.schema.dropTable("promotions").execute();
  await sql`drop function promotions_immutable()`.execute(db);
}
