import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's documented practice: a migration must not depend on the schema's type at any later time
type AnyDb = Kysely<any>;

// Frozen once landed: schema changes go in a new file.
export async function up(db: AnyDb): Promise<void> {
  await sql`create type agent_status as enum ('Ready', 'Failed', 'Unknown', 'Deleted', 'Unhealthy', 'BuildOnly')`.execute(
    db,
  );
  await sql`create type acp_type as enum ('sync', 'async', 'agentic')`.execute(db);
  await sql`create type agent_input_type as enum ('text', 'json')`.execute(db);
  await sql`create type deployment_status as enum ('Pending', 'Ready', 'Failed')`.execute(db);
  await sql`create type principal_kind as enum ('user', 'service_account', 'agent')`.execute(db);
  await sql`create type agent_role as enum ('viewer', 'deployer', 'owner')`.execute(db);

  await db.schema
    .createTable("principals")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("kind", sql`principal_kind`, (c) => c.notNull())
    .addColumn("admin", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("can_create_agents", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("api_tokens")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("principal_id", "uuid", (c) => c.notNull().references("principals.id").onDelete("cascade"))
    .addColumn("name", "text")
    // sha256 of the token: enough to look it up, useless as a credential.
    .addColumn("token_hash", "bytea", (c) => c.notNull().unique())
    .addColumn("token_prefix", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("revoked_at", "timestamptz")
    .execute();
  await db.schema.createIndex("api_tokens_principal_idx").on("api_tokens").column("principal_id").execute();

  await db.schema
    .createTable("agents")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("name", "text", (c) => c.notNull().check(sql`name ~ '^[a-z0-9-]{1,63}$'`))
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("status", sql`agent_status`, (c) => c.notNull())
    .addColumn("status_reason", "text")
    .addColumn("acp_url", "text")
    .addColumn("acp_type", sql`acp_type`, (c) => c.notNull().defaultTo("async"))
    .addColumn("agent_input_type", sql`agent_input_type`)
    .addColumn("registration_metadata", "jsonb")
    .addColumn("registered_at", "timestamptz")
    .addColumn("production_deployment_id", "uuid")
    .addColumn("created_by", "uuid", (c) => c.references("principals.id").onDelete("set null"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("deleted_at", "timestamptz")
    .execute();
  // A name is held by at most one live agent; deleted rows keep theirs for history.
  await sql`create unique index agents_live_name_uq on agents (name) where status <> 'Deleted'`.execute(db);
  // Keyset paging: (sort key, id) for every order the list offers.
  await sql`create index agents_created_idx on agents (created_at, id) where status <> 'Deleted'`.execute(db);
  await sql`create index agents_updated_idx on agents (updated_at, id) where status <> 'Deleted'`.execute(db);
  await sql`create index agents_registered_idx on agents ((coalesce(registered_at, '-infinity'::timestamptz)), id) where status <> 'Deleted'`.execute(
    db,
  );
  await sql`create index agents_name_idx on agents (name, id) where status <> 'Deleted'`.execute(db);

  await db.schema
    .createTable("deployments")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("agent_id", "uuid", (c) => c.notNull().references("agents.id").onDelete("cascade"))
    .addColumn("docker_image", "text")
    .addColumn("registration_metadata", "jsonb")
    .addColumn("status", sql`deployment_status`, (c) => c.notNull().defaultTo("Pending"))
    .addColumn("acp_url", "text")
    .addColumn("is_production", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("sgp_deploy_id", "text")
    .addColumn("helm_release_name", "text")
    .addColumn("created_by", "uuid", (c) => c.references("principals.id").onDelete("set null"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("promoted_at", "timestamptz")
    .addColumn("expires_at", "timestamptz")
    .addUniqueConstraint("deployments_id_agent_uq", ["id", "agent_id"])
    .execute();
  // At most one production deployment per agent, whatever the application does.
  await sql`create unique index deployments_one_production_uq on deployments (agent_id) where is_production`.execute(
    db,
  );
  await sql`create index deployments_agent_created_idx on deployments (agent_id, created_at desc, id desc)`.execute(
    db,
  );
  // The production pointer must name a deployment of the same agent.
  await sql`alter table agents add constraint agents_production_deployment_fk
    foreign key (production_deployment_id, id) references deployments (id, agent_id)`.execute(db);

  await db.schema
    .createTable("grants")
    .addColumn("agent_id", "uuid", (c) => c.notNull().references("agents.id").onDelete("cascade"))
    .addColumn("principal_id", "uuid", (c) => c.notNull().references("principals.id").onDelete("cascade"))
    .addColumn("role", sql`agent_role`, (c) => c.notNull())
    .addColumn("granted_by", "uuid", (c) => c.references("principals.id").onDelete("set null"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("grants_pk", ["agent_id", "principal_id"])
    .execute();
  await db.schema
    .createIndex("grants_principal_idx")
    .on("grants")
    .columns(["principal_id", "agent_id"])
    .execute();

  await db.schema
    .createTable("agent_api_keys")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("agent_id", "uuid", (c) => c.notNull().references("agents.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("api_key_type", "text", (c) =>
      c.notNull().check(sql`api_key_type in ('internal', 'external', 'github', 'slack')`),
    )
    .addColumn("key_hash", "bytea", (c) => c.notNull().unique())
    .addColumn("key_prefix", "text", (c) => c.notNull())
    .addColumn("created_by", "uuid", (c) => c.references("principals.id").onDelete("set null"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("revoked_at", "timestamptz")
    .execute();
  // One live internal key per agent: every pod that registers gets the same one.
  await sql`create unique index agent_api_keys_internal_uq on agent_api_keys (agent_id) where api_key_type = 'internal' and revoked_at is null`.execute(
    db,
  );
  await sql`create unique index agent_api_keys_name_uq on agent_api_keys (agent_id, name) where revoked_at is null`.execute(
    db,
  );
}

export async function down(db: AnyDb): Promise<void> {
  await sql`alter table agents drop constraint agents_production_deployment_fk`.execute(db);
  for (const table of ["agent_api_keys", "grants", "deployments", "agents", "api_tokens", "principals"]) {
    await db.schema.dropTable(table).execute();
  }
  for (const type of [
    "agent_role",
    "principal_kind",
    "deployment_status",
    "agent_input_type",
    "acp_type",
    "agent_status",
  ]) {
    await sql`drop type ${sql.raw(type)}`.execute(db);
  }
}
