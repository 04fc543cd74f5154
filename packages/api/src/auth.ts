import type { DB, Kysely, PrincipalKind } from "@agentex/db";
import { sql } from "kysely";
import { AGENT_KEY_PREFIX, hashCredential, sameHash } from "./crypto.ts";

/** Who is calling: a principal (by its token) or an agent (by its API key). Not the `principals` row. */
export interface Caller {
  id: string;
  name: string;
  kind: PrincipalKind;
  admin: boolean;
  can_create_agents: boolean;
  /** Set for kind `agent`: the agent whose API key authenticated the call. */
  agent_id: string | null;
  /** The token or key that authenticated this call. */
  credential_id: string | null;
  /** When the credential stops working, if it carries an expiry; caches check it on every request. */
  expires_at?: Date | null;
}

/**
 * One indexed lookup by the credential's hash. Revoked or expired tokens,
 * tokens of disabled or deleted principals, and keys of deleted agents do not
 * authenticate: every check is in the same query, so a revocation takes
 * effect on the very next request.
 */
export async function authenticate(db: Kysely<DB>, credential: string): Promise<Caller | null> {
  if (credential.length > 256) return null;
  const hash = hashCredential(credential);
  if (credential.startsWith(AGENT_KEY_PREFIX)) {
    const row = await db
      .selectFrom("agent_api_keys as k")
      .innerJoin("agents as a", "a.id", "k.agent_id")
      .select(["k.id as key_id", "k.key_hash", "a.id as agent_id", "a.name as agent_name"])
      .where("k.key_hash", "=", hash)
      .where("k.revoked_at", "is", null)
      // GitHub/Slack signing secrets verify webhooks; they are never API credentials.
      .where("k.api_key_type", "in", ["internal", "external"])
      .where("a.status", "<>", "Deleted")
      .executeTakeFirst();
    if (!row || !sameHash(row.key_hash, hash)) return null;
    return {
      id: row.agent_id,
      name: row.agent_name,
      kind: "agent",
      admin: false,
      can_create_agents: false,
      agent_id: row.agent_id,
      credential_id: row.key_id,
    };
  }
  const row = await db
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
  if (!row || !sameHash(row.token_hash, hash)) return null;
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    admin: row.admin,
    can_create_agents: row.can_create_agents,
    agent_id: null,
    credential_id: row.token_id,
  };
}

/** The principal id to record as creator or grantor; agent keys are not principals rows. */
export function actorId(p: Caller): string | null {
  return p.kind === "agent" ? null : p.id;
}
