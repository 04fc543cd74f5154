import type { DB, DeploymentRow, Kysely, Transaction } from "@agentex/db";
import { sql, type InsertObject, type RawBuilder } from "kysely";
import { decodeCursor, pageScope, sortKeyPage } from "./cursor.ts";
import type { OrderDirection } from "../schemas/paging.ts";
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

// The sort key of each ordering, tie-broken by (created_at, id) so pages never overlap. `promoted_at`
// sorts never-promoted deployments last in either direction: the key stands in an infinity for them.
const SORT_KEYS: Record<DeploymentOrderBy, Record<OrderDirection, RawBuilder<unknown>[]>> = {
  created_at: { asc: [sql.raw("created_at")], desc: [sql.raw("created_at")] },
  promoted_at: {
    asc: [sql.raw("coalesce(promoted_at, 'infinity'::timestamptz)"), sql.raw("created_at")],
    desc: [sql.raw("coalesce(promoted_at, '-infinity'::timestamptz)"), sql.raw("created_at")],
  },
};

export interface DeploymentListQuery {
  orderBy: DeploymentOrderBy;
  direction: OrderDirection;
  limit: number;
}

/**
 * One page of an agent's live deployments (expired, soft-deleted ones are
 * left out), starting after a cursor or at an offset, with the cursor after
 * it when more follow: one ordering whichever way the page was asked for.
 */
export async function listLiveDeployments(
  db: Kysely<DB>,
  agentId: string,
  q: DeploymentListQuery & ({ cursor?: string | null } | { offset: number }),
): Promise<{ rows: DeploymentRow[]; nextCursor: string | null }> {
  const scope = pageScope(`deployments:${agentId}`, q);
  const keys = SORT_KEYS[q.orderBy][q.direction];
  const dir = sql.raw(q.direction);
  let query = db
    .selectFrom("deployments")
    .selectAll()
    .select(sql<string[]>`array[${sql.join(keys.map((k) => sql`(${k})::text`))}]`.as("sort_key"))
    .where("agent_id", "=", agentId)
    .where("expires_at", "is", null);
  for (const key of keys) query = query.orderBy(sql`${key} ${dir}`);
  query = query.orderBy("id", q.direction).limit(q.limit + 1);
  if ("offset" in q) query = query.offset(q.offset);
  else if (q.cursor) {
    const after = decodeCursor(q.cursor, scope, keys.length);
    const op = sql.raw(q.direction === "asc" ? ">" : "<");
    const bounds = after.keys.map((k) => sql`${k}::timestamptz`);
    query = query.where(
      sql<boolean>`(${sql.join([...keys, sql.raw("id")])}) ${op} (${sql.join([...bounds, sql`${after.id}::uuid`])})`,
    );
  }
  return sortKeyPage(await query.execute(), q.limit, scope);
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
