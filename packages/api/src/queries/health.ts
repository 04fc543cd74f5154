import type { AgentRow, DB, DeploymentRow, Kysely, Transaction } from "@agentex/db";
import { sql } from "kysely";

export interface ProbeTarget {
  kind: "agent" | "deployment";
  id: string;
  agent_id: string;
  url: string;
}

const secs = (ms: number) => sql<Date>`now() + make_interval(secs => ${ms / 1000})`;

/** A target whose next probe is due and whose lease is free or expired (columns of the query's one table). */
const DUE_AND_FREE = sql<boolean>`(health_next_at is null or health_next_at <= now())
  and (health_lease_until is null or health_lease_until < now())`;

/**
 * Claims up to `limit` due agents for this replica: those whose next probe is
 * due and whose lease is free or expired. SKIP LOCKED lets replicas claim side
 * by side without waiting; the lease (`lease` token until `leaseMs` from now)
 * keeps any other replica off the target until it is released or expires.
 * Only Ready and Unhealthy agents with a URL are ever probed.
 */
export async function claimDueAgents(
  db: Kysely<DB>,
  lease: string,
  leaseMs: number,
  limit: number,
): Promise<ProbeTarget[]> {
  const rows = await db
    .updateTable("agents")
    .set({ health_lease: lease, health_lease_until: secs(leaseMs) })
    .where("id", "in", (eb) =>
      eb
        .selectFrom("agents")
        .select("id")
        .where("status", "in", ["Ready", "Unhealthy"])
        .where("acp_url", "is not", null)
        .where(DUE_AND_FREE)
        .orderBy(sql`health_next_at nulls first`)
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(["id", "acp_url"])
    .execute();
  return rows.map((r) => ({ kind: "agent", id: r.id, agent_id: r.id, url: r.acp_url! }));
}

/** As `claimDueAgents`, for Ready, live deployments of live agents. */
export async function claimDueDeployments(
  db: Kysely<DB>,
  lease: string,
  leaseMs: number,
  limit: number,
): Promise<ProbeTarget[]> {
  const rows = await db
    .updateTable("deployments")
    .set({ health_lease: lease, health_lease_until: secs(leaseMs) })
    .where("id", "in", (eb) =>
      eb
        .selectFrom("deployments as d")
        .select("d.id")
        .where("d.status", "=", "Ready")
        .where("d.expires_at", "is", null)
        .where("d.acp_url", "is not", null)
        .where(DUE_AND_FREE)
        .where((w) =>
          w.exists(
            w
              .selectFrom("agents as a")
              .select(sql`1`.as("one"))
              .whereRef("a.id", "=", "d.agent_id")
              .where("a.status", "<>", "Deleted"),
          ),
        )
        .orderBy(sql`health_next_at nulls first`)
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(["id", "agent_id", "acp_url"])
    .execute();
  return rows.map((r) => ({ kind: "deployment", id: r.id, agent_id: r.agent_id, url: r.acp_url! }));
}

/** The agent row if this replica still holds its lease (locked for the result's transaction). */
export async function lockLeasedAgent(
  trx: Transaction<DB>,
  id: string,
  lease: string,
): Promise<AgentRow | undefined> {
  return trx
    .selectFrom("agents")
    .selectAll()
    .where("id", "=", id)
    .where("health_lease", "=", lease)
    .forUpdate()
    .executeTakeFirst();
}

export async function lockAgentRow(trx: Transaction<DB>, id: string): Promise<void> {
  await trx.selectFrom("agents").select("id").where("id", "=", id).forUpdate().execute();
}

export async function lockLeasedDeployment(
  trx: Transaction<DB>,
  id: string,
  lease: string,
): Promise<DeploymentRow | undefined> {
  return trx
    .selectFrom("deployments")
    .selectAll()
    .where("id", "=", id)
    .where("health_lease", "=", lease)
    .forUpdate()
    .executeTakeFirst();
}

export interface HealthPatch {
  health_url: string | null;
  health_failures: number;
  health_successes: number;
  nextInMs: number;
}

/** The probe bookkeeping both targets carry: counters, the next probe, and the lease released. */
function probeColumns(patch: HealthPatch) {
  return {
    health_url: patch.health_url,
    health_failures: patch.health_failures,
    health_successes: patch.health_successes,
    health_next_at: secs(patch.nextInMs),
    health_lease: null,
    health_lease_until: null,
  };
}

export async function saveAgentHealth(
  trx: Transaction<DB>,
  id: string,
  patch: HealthPatch,
  status?: { status: "Ready" | "Unhealthy"; status_reason: string | null },
): Promise<void> {
  await trx
    .updateTable("agents")
    .set({
      ...probeColumns(patch),
      ...(status ? { ...status, updated_at: sql<Date>`now()` } : {}),
    })
    .where("id", "=", id)
    .execute();
}

export async function saveDeploymentHealth(
  trx: Transaction<DB>,
  id: string,
  patch: HealthPatch,
  health?: { health: "Healthy" | "Unhealthy"; health_reason: string | null },
): Promise<void> {
  await trx
    .updateTable("deployments")
    .set({
      ...probeColumns(patch),
      ...(health ?? {}),
    })
    .where("id", "=", id)
    .execute();
}
