import { withTransaction, type DB, type Kysely } from "@agentex/db";
import { appendEvents } from "../queries/events.ts";
import {
  lockAgentRow,
  lockLeasedAgent,
  lockLeasedDeployment,
  saveAgentHealth,
  saveDeploymentHealth,
  type HealthPatch,
  type ProbeTarget,
} from "../queries/health.ts";
import { healthChanged } from "./changes.ts";

/**
 * Health-check rules. The checker only ever moves an agent between `Ready`
 * and `Unhealthy` (never out of BuildOnly, Failed, Unknown or Deleted), and a
 * deployment's separate `health` field between Unknown, Healthy and
 * Unhealthy (its lifecycle `status` is never touched). A result counts only
 * for the URL it was taken against: when the lifecycle re-points the target
 * (promote, register), the counters start over.
 */

/** Written by a register that declares an agent Ready at a URL: its checks start over, due now. */
export const RESET_HEALTH = {
  health_url: null,
  health_failures: 0,
  health_successes: 0,
  health_next_at: null,
} as const;

export interface HealthPolicy {
  /** Consecutive failures that make a target Unhealthy. */
  failures: number;
  /** Consecutive successes that make it healthy again. */
  successes: number;
  intervalMs: number;
}

export interface ProbeResult {
  ok: boolean;
  /** Why it failed ("HTTP 503", "timed out after 500 ms", "connection refused"). */
  error: string | null;
}

function counters(
  prev: { health_url: string | null; health_failures: number; health_successes: number },
  url: string,
  result: ProbeResult,
) {
  const same = prev.health_url === url;
  return {
    health_url: url,
    health_failures: result.ok ? 0 : (same ? prev.health_failures : 0) + 1,
    health_successes: result.ok ? (same ? prev.health_successes : 0) + 1 : 0,
  };
}

/**
 * Records one probe result in one transaction (agent row locked first, as
 * every lifecycle writer does), with the health event in the same commit.
 * Returns the last event id written, or null if nothing changed. A result
 * from a lease this replica no longer holds is dropped.
 */
export async function recordProbe(
  db: Kysely<DB>,
  target: ProbeTarget,
  lease: string,
  result: ProbeResult,
  policy: HealthPolicy,
): Promise<{ lastEventId: number | null; changed: boolean }> {
  return withTransaction(db, async (trx) => {
    if (target.kind === "agent") {
      const agent = await lockLeasedAgent(trx, target.id, lease);
      if (!agent) return { lastEventId: null, changed: false };
      const relevant =
        (agent.status === "Ready" || agent.status === "Unhealthy") && agent.acp_url === target.url;
      if (!relevant) {
        // Re-pointed or taken out of service while the probe ran: that result says nothing now.
        await saveAgentHealth(trx, agent.id, {
          health_url: null,
          health_failures: 0,
          health_successes: 0,
          nextInMs: 0,
        });
        return { lastEventId: null, changed: false };
      }
      const next: HealthPatch = { ...counters(agent, target.url, result), nextInMs: policy.intervalMs };
      let status: { status: "Ready" | "Unhealthy"; status_reason: string | null } | undefined;
      if (!result.ok && agent.status === "Ready" && next.health_failures >= policy.failures) {
        status = {
          status: "Unhealthy",
          status_reason: `health check failed ${next.health_failures} times in a row: ${result.error}`,
        };
      } else if (result.ok && agent.status === "Unhealthy" && next.health_successes >= policy.successes) {
        status = { status: "Ready", status_reason: null };
      }
      await saveAgentHealth(trx, agent.id, next, status);
      if (!status) return { lastEventId: null, changed: false };
      const lastEventId = await appendEvents(trx, [
        healthChanged(
          { agent_id: agent.id, deployment_id: null },
          { from: agent.status, to: status.status, reason: status.status_reason, url: target.url },
        ),
      ]);
      return { lastEventId, changed: true };
    }

    await lockAgentRow(trx, target.agent_id);
    const deployment = await lockLeasedDeployment(trx, target.id, lease);
    if (!deployment) return { lastEventId: null, changed: false };
    if (deployment.status !== "Ready" || deployment.expires_at || deployment.acp_url !== target.url) {
      await saveDeploymentHealth(trx, deployment.id, {
        health_url: null,
        health_failures: 0,
        health_successes: 0,
        nextInMs: 0,
      });
      return { lastEventId: null, changed: false };
    }
    const next: HealthPatch = { ...counters(deployment, target.url, result), nextInMs: policy.intervalMs };
    let health: { health: "Healthy" | "Unhealthy"; health_reason: string | null } | undefined;
    if (!result.ok && deployment.health !== "Unhealthy" && next.health_failures >= policy.failures) {
      health = {
        health: "Unhealthy",
        health_reason: `health check failed ${next.health_failures} times in a row: ${result.error}`,
      };
    } else if (result.ok && deployment.health !== "Healthy" && next.health_successes >= policy.successes) {
      health = { health: "Healthy", health_reason: null };
    }
    await saveDeploymentHealth(trx, deployment.id, next, health);
    if (!health) return { lastEventId: null, changed: false };
    const lastEventId = await appendEvents(trx, [
      healthChanged(
        { agent_id: deployment.agent_id, deployment_id: deployment.id },
        { from: deployment.health, to: health.health, reason: health.health_reason, url: target.url },
      ),
    ]);
    return { lastEventId, changed: true };
  });
}
