import type { AgentRow, DeploymentRow } from "@agentex/db";
import type { NewEvent } from "../queries/events.ts";

/** Builders of the change feed's events, so every writer describes a change the same way. */

export type AgentEventType = "agent.created" | "agent.registered" | "agent.deleted";
export type DeploymentEventType = "deployment.created" | "deployment.ready" | "deployment.deleted";

export function agentChange(type: AgentEventType, agent: AgentRow, readers?: string[]): NewEvent {
  return {
    type,
    agent_id: agent.id,
    deployment_id: null,
    data: {
      name: agent.name,
      status: agent.status,
      status_reason: agent.status_reason,
      acp_url: agent.acp_url,
      production_deployment_id: agent.production_deployment_id,
    },
    ...(readers ? { readers } : {}),
  };
}

export function deploymentChange(type: DeploymentEventType, deployment: DeploymentRow): NewEvent {
  return {
    type,
    agent_id: deployment.agent_id,
    deployment_id: deployment.id,
    data: { status: deployment.status, acp_url: deployment.acp_url, is_production: deployment.is_production },
  };
}

/** How production changed: a promote, a rollback, or a legacy register pointing the agent elsewhere. */
export type ProductionCause = "promote" | "rollback" | "register";

export function productionChanged(
  agentId: string,
  change: {
    from: string | null;
    to: string | null;
    acp_url: string | null;
    status: string;
    cause: ProductionCause;
  },
): NewEvent {
  return {
    type: "production.changed",
    agent_id: agentId,
    deployment_id: change.to,
    data: {
      from_deployment_id: change.from,
      to_deployment_id: change.to,
      acp_url: change.acp_url,
      status: change.status,
      cause: change.cause,
    },
  };
}

export function healthChanged(
  target: { agent_id: string; deployment_id: string | null },
  change: { from: string; to: string; reason: string | null; url: string },
): NewEvent {
  return {
    type: "health.changed",
    agent_id: target.agent_id,
    deployment_id: target.deployment_id,
    data: {
      target: target.deployment_id ? "deployment" : "agent",
      from: change.from,
      to: change.to,
      reason: change.reason,
      url: change.url,
    },
  };
}
