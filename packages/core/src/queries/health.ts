import type { AgentRow, DB, DeploymentRow, Kysely, Transaction } from "@agentex/db";
import { sql, type SelectQueryBuilder } from "kysely";
import { claimable, fromNow, releaseRowLeases, type RowLease } from "./leases.ts";

export interface ProbeTarget {
  kind: "agent" | "deployment";
  id: string;
  agent_id: string;
  url: string;
}

/** Which replica claims, for how long, and how many targets at most. */
export interface Claim {
  lease: string;
  leaseMs: number;
  limit: number;
}

/** Both probed tables carry a row lease (queries/leases.ts): the replica probing a target holds it. */
const HEALTH_LEASES = [
  { table: "agents", owner: "health_lease", until: "health_lease_until" },
  { table: "deployments", owner: "health_lease", until: "health_lease_until" },
] as const satisfies readonly RowLease<"agents" | "deployments">[];

/** The lease columns a claim sets: `lease` holds the target until `leaseMs` from now. */
const leased = (c: Claim) => ({ health_lease: c.lease, health_lease_until: fromNow(c.leaseMs) });

/**
 * Narrows a candidate query (over one table, agents or deployments) to its
 * first `limit` targets whose next probe is due and whose lease is free,
 * most overdue first, locked (the lease, due-and-free and SKIP LOCKED tail).
 */
function dueAndFree(c: Claim) {
  return <D, T extends keyof D, O>(qb: SelectQueryBuilder<D, T, O>) =>
    qb
      .where(sql<boolean>`(health_next_at is null or health_next_at <= now())`)
      .orderBy(sql`health_next_at nulls first`)
      .$call(claimable("health_lease_until", c.limit));
}

/**
 * Frees every target `lease` holds, probed or not: a replica that stops hands
 * its claims to the others at once instead of leaving them to expire.
 */
export async function releaseHealthClaims(db: Kysely<DB>, lease: string): Promise<number> {
  let released = 0;
  for (const table of HEALTH_LEASES) released += await releaseRowLeases(db, table, lease);
  return released;
}

/** Claims due agents for this replica: only Ready and Unhealthy agents with a URL are ever probed. */
export async function claimDueAgents(db: Kysely<DB>, c: Claim): Promise<ProbeTarget[]> {
  const rows = await db
    .updateTable("agents")
    .set(leased(c))
    .where("id", "in", (eb) =>
      eb
        .selectFrom("agents")
        .select("id")
        .where("status", "in", ["Ready", "Unhealthy"])
        .where("acp_url", "is not", null)
        .$call(dueAndFree(c)),
    )
    .returning(["id", "acp_url"])
    .execute();
  return rows.map((r) => ({ kind: "agent", id: r.id, agent_id: r.id, url: r.acp_url! }));
}

/** As `claimDueAgents`, for Ready, live deployments of live agents. */
export async function claimDueDeployments(db: Kysely<DB>, c: Claim): Promise<ProbeTarget[]> {
  const rows = await db
    .updateTable("deployments")
    .set(leased(c))
    .where("id", "in", (eb) =>
      eb
        .selectFrom("deployments as d")
        .select("d.id")
        .where("d.status", "=", "Ready")
        .where("d.expires_at", "is", null)
        .where("d.acp_url", "is not", null)
        .where((w) =>
          w.exists(
            w
              .selectFrom("agents as a")
              .select(sql`1`.as("one"))
              .whereRef("a.id", "=", "d.agent_id")
              .where("a.status", "<>", "Deleted"),
          ),
        )
        .$call(dueAndFree(c)),
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
    health_next_at: fromNow(patch.nextInMs),
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
