import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's documented practice: a migration must not depend on the schema's type at any later time
type AnyDb = Kysely<any>;

/**
 * Agentex parity: webhook signing secrets, caller-supplied keys, deployment
 * images never null, deployment history. Frozen once landed.
 */
export async function up(db: AnyDb): Promise<void> {
  // GitHub/Slack signing secrets must be usable to verify an HMAC, so they are
  // sealed (AES-256-GCM under a key derived from AGENTEX_SECRET_KEY) instead of
  // only hashed. Nothing else is ever stored in this column.
  await db.schema.alterTable("agent_api_keys").addColumn("sealed_secret", "bytea").execute();
  await sql`alter table agent_api_keys add constraint agent_api_keys_sealed_type_ck
    check (sealed_secret is null or api_key_type in ('github', 'slack'))`.execute(db);
  // Caller-supplied values may repeat across agents (Agentex allows it); a global
  // unique index would turn a duplicate into an oracle for another agent's key.
  await sql`alter table agent_api_keys drop constraint agent_api_keys_key_hash_key`.execute(db);
  await db.schema.createIndex("agent_api_keys_hash_idx").on("agent_api_keys").column("key_hash").execute();
  // Names are unique per agent and type (Agentex): a github key named after a
  // repository may share its name with an external key.
  await sql`drop index agent_api_keys_name_uq`.execute(db);
  await sql`create unique index agent_api_keys_name_uq on agent_api_keys (agent_id, api_key_type, name) where revoked_at is null`.execute(
    db,
  );
  await sql`create index agent_api_keys_agent_created_idx on agent_api_keys (agent_id, created_at desc, id desc) where revoked_at is null`.execute(
    db,
  );

  // Agentex's Deployment.docker_image is a required string; deployments that
  // appeared through a deployment-scoped register get "unknown", as in Agentex.
  await sql`update deployments set docker_image = 'unknown' where docker_image is null`.execute(db);
  await sql`alter table deployments alter column docker_image set default 'unknown'`.execute(db);
  await sql`alter table deployments alter column docker_image set not null`.execute(db);

  await db.schema
    .createTable("deployment_history")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("agent_id", "uuid", (c) => c.notNull().references("agents.id").onDelete("cascade"))
    .addColumn("deployment_id", "uuid", (c) => c.references("deployments.id").onDelete("set null"))
    .addColumn("author_name", "text", (c) => c.notNull())
    .addColumn("author_email", "text", (c) => c.notNull())
    .addColumn("branch_name", "text", (c) => c.notNull())
    .addColumn("commit_hash", "text", (c) => c.notNull())
    .addColumn("build_timestamp", "timestamptz", (c) => c.notNull())
    .addColumn("deployment_timestamp", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index deployment_history_agent_idx on deployment_history (agent_id, deployment_timestamp desc, id desc)`.execute(
    db,
  );
  await sql`create index deployment_history_commit_idx on deployment_history (commit_hash)`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("deployment_history").execute();
  await sql`alter table deployments alter column docker_image drop not null`.execute(db);
  await sql`alter table deployments alter column docker_image drop default`.execute(db);
  await sql`drop index agent_api_keys_agent_created_idx`.execute(db);
  await sql`drop index agent_api_keys_name_uq`.execute(db);
  // Keys sharing a name across types, or a value across agents, cannot go back under the old indexes.
  await sql`delete from agent_api_keys where api_key_type in ('github', 'slack')`.execute(db);
  await sql`create unique index agent_api_keys_name_uq on agent_api_keys (agent_id, name) where revoked_at is null`.execute(
    db,
  );
  await sql`drop index agent_api_keys_hash_idx`.execute(db);
  await sql`alter table agent_api_keys add constraint agent_api_keys_key_hash_key unique (key_hash)`.execute(
    db,
  );
  await sql`alter table agent_api_keys drop constraint agent_api_keys_sealed_type_ck`.execute(db);
  await db.schema.alterTable("agent_api_keys").dropColumn("sealed_secret").execute();
}
