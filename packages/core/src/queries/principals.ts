import type { DB, Kysely, PrincipalKind, PrincipalRow, Transaction } from "@agentex/db";
import { sql } from "kysely";

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

export async function anyLiveAdmin(db: Kysely<DB>): Promise<boolean> {
  const row = await db
    .selectFrom("principals")
    .select("id")
    .where("admin", "=", true)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  return row !== undefined;
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
