import type { ApiTokenRow, DB, Kysely, PrincipalKind, PrincipalRow, Transaction } from "@agentex/db";
import { sql } from "kysely";
import { displayPrefix, hashCredential, newToken } from "../crypto.ts";

export async function insertPrincipal(
  db: Kysely<DB>,
  values: { name: string; kind: PrincipalKind; admin: boolean; can_create_agents: boolean },
): Promise<PrincipalRow | undefined> {
  return db
    .insertInto("principals")
    .values(values)
    .onConflict((oc) => oc.column("name").where("deleted_at", "is", null).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** A principal that is not deleted (it may be disabled). */
export async function findPrincipal(db: Kysely<DB>, id: string): Promise<PrincipalRow | undefined> {
  return db
    .selectFrom("principals")
    .selectAll()
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

export async function findPrincipalByName(db: Kysely<DB>, name: string): Promise<PrincipalRow | undefined> {
  return db
    .selectFrom("principals")
    .selectAll()
    .where("name", "=", name)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
}

/**
 * Share-locks a live principal: a grant or token made under this lock cannot
 * interleave with the principal's deletion, which takes the row for update.
 */
export async function lockLivePrincipal(
  trx: Transaction<DB>,
  id: string,
  mode: "share" | "update",
): Promise<PrincipalRow | undefined> {
  const q = trx.selectFrom("principals").selectAll().where("id", "=", id).where("deleted_at", "is", null);
  return (mode === "share" ? q.forShare() : q.forUpdate()).executeTakeFirst();
}

export async function listPrincipals(db: Kysely<DB>): Promise<PrincipalRow[]> {
  return db
    .selectFrom("principals")
    .selectAll()
    .where("deleted_at", "is", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

export async function setPrincipalDisabled(
  trx: Transaction<DB>,
  id: string,
  disabled: boolean,
): Promise<PrincipalRow> {
  return trx
    .updateTable("principals")
    .set({ disabled_at: disabled ? sql<Date>`coalesce(disabled_at, now())` : null })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Soft delete: the row stays (audit columns name it), its tokens are revoked and its grants removed. */
export async function markPrincipalDeleted(trx: Transaction<DB>, id: string): Promise<void> {
  await trx
    .updateTable("principals")
    .set({ deleted_at: sql<Date>`now()` })
    .where("id", "=", id)
    .execute();
  await trx
    .updateTable("api_tokens")
    .set({ revoked_at: sql<Date>`now()` })
    .where("principal_id", "=", id)
    .where("revoked_at", "is", null)
    .execute();
  await trx.deleteFrom("grants").where("principal_id", "=", id).execute();
}

/**
 * Live agents the principal owns, locked in id order (the order every other
 * writer takes agent rows in), with their owner counts.
 */
export async function lockOwnedAgents(
  trx: Transaction<DB>,
  principalId: string,
): Promise<Array<{ id: string; owners: number }>> {
  const agents = await trx
    .selectFrom("agents")
    .select("agents.id")
    .where("agents.status", "<>", "Deleted")
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("grants")
          .select(sql`1`.as("one"))
          .whereRef("grants.agent_id", "=", "agents.id")
          .where("grants.principal_id", "=", principalId)
          .where("grants.role", "=", "owner"),
      ),
    )
    .orderBy("agents.id")
    .forUpdate()
    .execute();
  if (agents.length === 0) return [];
  const counts = await trx
    .selectFrom("grants")
    .select(["agent_id", (eb) => eb.fn.countAll<number>().as("n")])
    .where(
      "agent_id",
      "in",
      agents.map((a) => a.id),
    )
    .where("role", "=", "owner")
    .groupBy("agent_id")
    .execute();
  const byId = new Map(counts.map((c) => [c.agent_id, Number(c.n)]));
  return agents.map((a) => ({ id: a.id, owners: byId.get(a.id) ?? 0 }));
}

/** Issues a token; `token` may be given (the operator's bootstrap token), else a fresh one is made. */
export async function issueToken(
  db: Kysely<DB>,
  principalId: string,
  name: string | null,
  opts: { token?: string; expiresAt?: Date | null; bootstrap?: boolean } = {},
): Promise<{ row: ApiTokenRow; token: string }> {
  const token = opts.token ?? newToken();
  const row = await db
    .insertInto("api_tokens")
    .values({
      principal_id: principalId,
      name,
      token_hash: hashCredential(token),
      token_prefix: displayPrefix(token),
      expires_at: opts.expiresAt ?? null,
      bootstrap: opts.bootstrap ?? false,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, token };
}

export async function findLiveToken(db: Kysely<DB>, id: string): Promise<ApiTokenRow | undefined> {
  return db
    .selectFrom("api_tokens")
    .selectAll()
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

/** Tokens that still authenticate (not revoked, not expired), with their expiry. */
export async function listLiveTokens(db: Kysely<DB>, principalId: string): Promise<ApiTokenRow[]> {
  return db
    .selectFrom("api_tokens")
    .selectAll()
    .where("principal_id", "=", principalId)
    .where("revoked_at", "is", null)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
    .orderBy("created_at")
    .execute();
}

export async function revokeToken(db: Kysely<DB>, id: string): Promise<void> {
  await db
    .updateTable("api_tokens")
    .set({ revoked_at: sql<Date>`now()` })
    .where("id", "=", id)
    .execute();
}
