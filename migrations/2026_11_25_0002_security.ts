import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's documented practice: a migration must not depend on the schema's type at any later time
type AnyDb = Kysely<any>;

// Issue 9 (security review). Frozen once landed: schema changes go in a new file.
export async function up(db: AnyDb): Promise<void> {
  // Token expiry, and which token came from AGENTEX_BOOTSTRAP_TOKEN (a new value revokes the old one).
  await db.schema.alterTable("api_tokens").addColumn("expires_at", "timestamptz").execute();
  await db.schema
    .alterTable("api_tokens")
    .addColumn("bootstrap", "boolean", (c) => c.notNull().defaultTo(false))
    .execute();
  await sql`update api_tokens set bootstrap = true where name = 'bootstrap'`.execute(db);

  // Principals can be disabled (all tokens stop at once) and deleted (soft: audit columns keep naming them).
  await db.schema.alterTable("principals").addColumn("disabled_at", "timestamptz").execute();
  await db.schema.alterTable("principals").addColumn("deleted_at", "timestamptz").execute();
  // A deleted principal's name is free again.
  await sql`alter table principals drop constraint principals_name_key`.execute(db);
  await sql`create unique index principals_live_name_uq on principals (name) where deleted_at is null`.execute(
    db,
  );

  // Stored prefixes: at most the scheme prefix plus 4 characters of the secret.
  await sql`update api_tokens set token_prefix = case
      when token_prefix like 'agx\\_pat\\_%' then left(token_prefix, 12) else left(token_prefix, 4) end`.execute(
    db,
  );
  await sql`update agent_api_keys set key_prefix = case
      when key_prefix like 'agx\\_key\\_%' then left(key_prefix, 12) else left(key_prefix, 4) end`.execute(
    db,
  );

  // Renames are owner actions, recorded.
  await db.schema
    .createTable("agent_renames")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("agent_id", "uuid", (c) => c.notNull().references("agents.id").onDelete("cascade"))
    .addColumn("old_name", "text", (c) => c.notNull())
    .addColumn("new_name", "text", (c) => c.notNull())
    .addColumn("renamed_by", "uuid", (c) => c.references("principals.id").onDelete("set null"))
    .addColumn("renamed_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("agent_renames_agent_idx")
    .on("agent_renames")
    .columns(["agent_id", "renamed_at"])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("agent_renames").execute();
  await sql`drop index principals_live_name_uq`.execute(db);
  await sql`alter table principals add constraint principals_name_key unique (name)`.execute(db);
  await db.schema.alterTable("principals").dropColumn("deleted_at").execute();
  await db.schema.alterTable("principals").dropColumn("disabled_at").execute();
  await db.schema.alterTable("api_tokens").dropColumn("bootstrap").execute();
  await db.schema.alterTable("api_tokens").dropColumn("expires_at").execute();
}
