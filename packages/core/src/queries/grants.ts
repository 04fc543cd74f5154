import type { AgentRole, DB, GrantRow, Kysely, Transaction } from "@agentex/db";

export async function listGrants(db: Kysely<DB>, agentId: string): Promise<GrantRow[]> {
  return db
    .selectFrom("grants")
    .selectAll()
    .where("agent_id", "=", agentId)
    .orderBy("created_at")
    .orderBy("principal_id")
    .execute();
}

export async function findGrant(
  db: Kysely<DB>,
  agentId: string,
  principalId: string,
): Promise<GrantRow | undefined> {
  return db
    .selectFrom("grants")
    .selectAll()
    .where("agent_id", "=", agentId)
    .where("principal_id", "=", principalId)
    .executeTakeFirst();
}

export async function putGrant(
  trx: Transaction<DB>,
  values: { agent_id: string; principal_id: string; role: AgentRole; granted_by: string | null },
): Promise<GrantRow> {
  return trx
    .insertInto("grants")
    .values(values)
    .onConflict((oc) =>
      oc
        .columns(["agent_id", "principal_id"])
        .doUpdateSet({ role: values.role, granted_by: values.granted_by }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteGrant(trx: Transaction<DB>, agentId: string, principalId: string): Promise<void> {
  await trx
    .deleteFrom("grants")
    .where("agent_id", "=", agentId)
    .where("principal_id", "=", principalId)
    .execute();
}

export async function deleteAllGrants(trx: Transaction<DB>, agentId: string): Promise<void> {
  await trx.deleteFrom("grants").where("agent_id", "=", agentId).execute();
}

export async function countOwners(trx: Transaction<DB>, agentId: string): Promise<number> {
  const row = await trx
    .selectFrom("grants")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("agent_id", "=", agentId)
    .where("role", "=", "owner")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
