import type { DB, DeploymentRow, Kysely, Transaction } from "@agentex/db";
import { sql, type InsertObject } from "kysely";
import { decodeCursor, sortKeyPage } from "./cursor.ts";
import type { OrderDirection } from "../schemas/agent.ts";
import type { DeploymentOrderBy } from "../schemas/deployment.ts";

export async function findDeployment(
  db: Kysely<DB>,
  agentId: string,
  deploymentId: string,
): Promise<DeploymentRow | undefined> {
  return db
    .selectFrom("deployments")
    .selectAll()
    .where("id", "=", deploymentId)
    .where("agent_id", "=", agentId)
    .executeTakeFirst();
}

export async function findDeploymentAnyAgent(
  db: Kysely<DB>,
  deploymentId: string,
): Promise<DeploymentRow | undefined> {
  return db.selectFrom("deployments").selectAll().where("id", "=", deploymentId).executeTakeFirst();
}

/** Newest first; expired (soft-deleted) deployments are left out. */
export async function listLiveDeployments(
  db: Kysely<DB>,
  agentId: string,
  limit: number,
  cursor?: string | null,
): Promise<{ rows: DeploymentRow[]; nextCursor: string | null }> {
  const scope = `deployments:${agentId}`;
  let q = db
    .selectFrom("deployments")
    .selectAll()
    .select(sql<string>`created_at::text`.as("sort_key"))
    .where("agent_id", "=", agentId)
    .where("expires_at", "is", null)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(limit + 1);
  if (cursor) {
    const after = decodeCursor(cursor, scope);
    q = q.where(sql<boolean>`(created_at, id) < (${after.key}::timestamptz, ${after.id}::uuid)`);
  }
  return sortKeyPage(await q.execute(), limit, scope);
}

/**
 * Agentex's offset pages. `promoted_at` sorts never-promoted deployments last
 * in either direction; ties break on (created_at, id) so pages never overlap.
 */
export async function listLiveDeploymentsByPage(
  db: Kysely<DB>,
  agentId: string,
  opts: { limit: number; pageNumber: number; orderBy: DeploymentOrderBy; direction: OrderDirection },
): Promise<DeploymentRow[]> {
  const dir = opts.direction;
  let q = db
    .selectFrom("deployments")
    .selectAll()
    .where("agent_id", "=", agentId)
    .where("expires_at", "is", null);
  if (opts.orderBy === "promoted_at") q = q.orderBy(sql`promoted_at ${sql.raw(dir)} nulls last`);
  return q
    .orderBy("created_at", dir)
    .orderBy("id", dir)
    .limit(opts.limit)
    .offset(opts.limit * (opts.pageNumber - 1))
    .execute();
}

/** Inserts a deployment; the caller holds its agent's row lock. */
export async function insertDeployment(
  trx: Transaction<DB>,
  values: InsertObject<DB, "deployments">,
): Promise<DeploymentRow> {
  return trx.insertInto("deployments").values(values).returningAll().executeTakeFirstOrThrow();
}

/** Soft delete: the row stays for history and the ledger. */
export async function expireDeployment(trx: Transaction<DB>, deploymentId: string): Promise<void> {
  await trx
    .updateTable("deployments")
    .set({ expires_at: sql<Date>`now()` })
    .where("id", "=", deploymentId)
    .execute();
}

export async function demoteProduction(trx: Transaction<DB>, agentId: string): Promise<void> {
  await trx
    .updateTable("deployments")
    .set({ is_production: false })
    .where("agent_id", "=", agentId)
    .where("is_production", "=", true)
    .execute();
}

export async function markProduction(trx: Transaction<DB>, deploymentId: string): Promise<DeploymentRow> {
  return trx
    .updateTable("deployments")
    .set({ is_production: true, promoted_at: sql<Date>`now()` })
    .where("id", "=", deploymentId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Deployment-scoped registration: creates the deployment or marks it Ready at
 * its URL. Returns nothing when the id is taken by another agent's deployment
 * or by an expired one, which the caller reports.
 */
export async function upsertRegisteredDeployment(
  trx: Transaction<DB>,
  values: {
    id: string;
    agent_id: string;
    acp_url: string;
    registration_metadata: Record<string, unknown>;
    created_by: string | null;
  },
): Promise<DeploymentRow | undefined> {
  const metadata = JSON.stringify(values.registration_metadata);
  return trx
    .insertInto("deployments")
    .values({
      id: values.id,
      agent_id: values.agent_id,
      acp_url: values.acp_url,
      status: "Ready",
      registration_metadata: metadata,
      created_by: values.created_by,
    })
    .onConflict((oc) =>
      oc
        .column("id")
        .doUpdateSet({
          acp_url: (eb) => eb.ref("excluded.acp_url"),
          status: "Ready",
          registration_metadata: sql<string>`coalesce(deployments.registration_metadata, '{}'::jsonb) || excluded.registration_metadata`,
          // A new URL is a new server: its health is not known yet.
          health: sql<"Unknown">`case when deployments.acp_url is distinct from excluded.acp_url then 'Unknown' else deployments.health end`,
          health_reason: sql<
            string | null
          >`case when deployments.acp_url is distinct from excluded.acp_url then null else deployments.health_reason end`,
        })
        .where("deployments.agent_id", "=", values.agent_id)
        .where("deployments.expires_at", "is", null),
    )
    .returningAll()
    .executeTakeFirst();
}
