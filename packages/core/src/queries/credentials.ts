import type { DB, Kysely } from "@agentex/db";
import { sql } from "kysely";

/**
 * The live API key with this hash and its agent. Only `internal` and
 * `external` keys are credentials: GitHub/Slack signing secrets verify
 * webhooks and never authenticate an API call. Keys of deleted agents do not
 * answer.
 */
export async function findKeyCredential(db: Kysely<DB>, hash: Buffer) {
  return db
    .selectFrom("agent_api_keys as k")
    .innerJoin("agents as a", "a.id", "k.agent_id")
    .select(["k.id as key_id", "k.key_hash", "a.id as agent_id", "a.name as agent_name"])
    .where("k.key_hash", "=", hash)
    .where("k.revoked_at", "is", null)
    .where("k.api_key_type", "in", ["internal", "external"])
    .where("a.status", "<>", "Deleted")
    .executeTakeFirst();
}

/**
 * The live token with this hash and its principal: not revoked, not expired,
 * and its principal neither disabled nor deleted.
 */
export async function findTokenCredential(db: Kysely<DB>, hash: Buffer) {
  return db
    .selectFrom("api_tokens as t")
    .innerJoin("principals as p", "p.id", "t.principal_id")
    .select([
      "t.id as token_id",
      "t.token_hash",
      "p.id",
      "p.name",
      "p.kind",
      "p.admin",
      "p.can_create_agents",
    ])
    .where("t.token_hash", "=", hash)
    .where("t.revoked_at", "is", null)
    .where((eb) => eb.or([eb("t.expires_at", "is", null), eb("t.expires_at", ">", sql<Date>`now()`)]))
    .where("p.disabled_at", "is", null)
    .where("p.deleted_at", "is", null)
    .executeTakeFirst();
}
