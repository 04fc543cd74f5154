import { randomUUID } from "node:crypto";
import type { AgentApiKeyRow, ApiKeyType, DB, Kysely, Transaction } from "@agentex/db";
import { sql, type InsertObject } from "kysely";
import { deriveAgentKey, displayPrefix, hashCredential } from "../crypto.ts";

/**
 * Returns the agent's internal key, minting its row on first use. The key is
 * derived from the server secret and the row id, so every replica and every
 * later register hands out the same key while the row stores only a hash.
 * Callers hold the agent row lock, so two registers cannot mint two keys.
 */
export async function ensureInternalKey(
  trx: Transaction<DB>,
  secretKey: Buffer,
  agentId: string,
  createdBy: string | null,
): Promise<string> {
  const existing = await findLiveInternalKey(trx, agentId);
  if (existing) return deriveAgentKey(secretKey, existing.id);
  const id = randomUUID();
  const key = deriveAgentKey(secretKey, id);
  await trx
    .insertInto("agent_api_keys")
    .values({
      id,
      agent_id: agentId,
      name: `internal-${id.slice(0, 8)}`,
      api_key_type: "internal",
      key_hash: hashCredential(key),
      key_prefix: displayPrefix(key),
      created_by: createdBy,
    })
    .execute();
  return key;
}

export async function findLiveInternalKey(
  trx: Transaction<DB>,
  agentId: string,
): Promise<AgentApiKeyRow | undefined> {
  return trx
    .selectFrom("agent_api_keys")
    .selectAll()
    .where("agent_id", "=", agentId)
    .where("api_key_type", "=", "internal")
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

/** Inserts a key row; the caller holds the agent's row lock and has hashed or sealed the secret. */
export async function insertKey(
  trx: Transaction<DB>,
  values: InsertObject<DB, "agent_api_keys">,
): Promise<AgentApiKeyRow> {
  return trx.insertInto("agent_api_keys").values(values).returningAll().executeTakeFirstOrThrow();
}

export async function findLiveKeyByName(
  db: Kysely<DB>,
  agentId: string,
  type: ApiKeyType,
  name: string,
): Promise<AgentApiKeyRow | undefined> {
  return db
    .selectFrom("agent_api_keys")
    .selectAll()
    .where("agent_id", "=", agentId)
    .where("api_key_type", "=", type)
    .where("name", "=", name)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

/** One page of an agent's live keys, newest first (Agentex's limit/page_number). */
export async function listLiveKeysPage(
  db: Kysely<DB>,
  agentId: string,
  limit: number,
  pageNumber: number,
): Promise<AgentApiKeyRow[]> {
  return db
    .selectFrom("agent_api_keys")
    .selectAll()
    .where("agent_id", "=", agentId)
    .where("revoked_at", "is", null)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .offset(limit * (pageNumber - 1))
    .execute();
}

/** Whether `hash` is a live external key of that agent (the forward route's X-Agent-API-Key). */
export async function isLiveExternalKey(db: Kysely<DB>, agentId: string, hash: Buffer): Promise<boolean> {
  const row = await db
    .selectFrom("agent_api_keys")
    .select("key_hash")
    .where("agent_id", "=", agentId)
    .where("api_key_type", "=", "external")
    .where("key_hash", "=", hash)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return row !== undefined;
}

/** Live signing-secret keys of one source for an agent (one by name, or all of them). */
export async function liveSigningKeys(
  db: Kysely<DB>,
  agentId: string,
  type: "github" | "slack",
  name?: string,
): Promise<Pick<AgentApiKeyRow, "id" | "sealed_secret">[]> {
  let q = db
    .selectFrom("agent_api_keys")
    .select(["id", "sealed_secret"])
    .where("agent_id", "=", agentId)
    .where("api_key_type", "=", type)
    .where("revoked_at", "is", null);
  if (name !== undefined) q = q.where("name", "=", name);
  return q.orderBy("created_at", "desc").limit(100).execute();
}

export async function findLiveKey(db: Kysely<DB>, id: string): Promise<AgentApiKeyRow | undefined> {
  return db
    .selectFrom("agent_api_keys")
    .selectAll()
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

export async function revokeKeys(
  db: Kysely<DB>,
  by: { id: string } | { agentId: string; type?: ApiKeyType },
): Promise<void> {
  let q = db
    .updateTable("agent_api_keys")
    .set({ revoked_at: sql<Date>`now()` })
    .where("revoked_at", "is", null);
  if ("id" in by) q = q.where("id", "=", by.id);
  else {
    q = q.where("agent_id", "=", by.agentId);
    if (by.type) q = q.where("api_key_type", "=", by.type);
  }
  await q.execute();
}
