import type { DeploymentHistoryRow } from "@agentex/db";
import { z } from "zod";
import { MAX_PAGE_NUMBER, MAX_PAGE_SIZE, OrderDirection } from "./paging.ts";
import { AgentName, IsoTimestamp, Uuid, iso, text } from "./common.ts";

/** Agentex's DeploymentHistory: one row per new commit an agent was registered with. */
export const DeploymentHistory = z
  .object({
    id: Uuid,
    agent_id: Uuid,
    author_name: z.string(),
    author_email: z.string(),
    branch_name: z.string(),
    build_timestamp: IsoTimestamp,
    deployment_timestamp: IsoTimestamp.meta({ description: "When this commit was first registered" }),
    commit_hash: z.string(),
    deployment_id: Uuid.nullable().meta({
      description: "The deployment whose register carried it (deployment-scoped registers)",
    }),
  })
  .meta({ id: "DeploymentHistory" });

export const HISTORY_ORDER_BY = ["deployment_timestamp", "build_timestamp"] as const;
export type HistoryOrderBy = (typeof HISTORY_ORDER_BY)[number];

export const ListDeploymentHistoryInput = z.object({
  agent_id: Uuid.nullish(),
  agent_name: AgentName.nullish(),
  commit_hash: text(256).min(1).nullish().meta({ description: "Only records of this commit" }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  page_number: z.coerce.number().int().min(1).max(MAX_PAGE_NUMBER).default(1),
  order_by: z.enum(HISTORY_ORDER_BY).default("deployment_timestamp"),
  order_direction: OrderDirection.default("desc"),
});
export const DeploymentHistoryIdInput = z.object({ deployment_id: Uuid });

export function toDeploymentHistory(row: DeploymentHistoryRow): z.infer<typeof DeploymentHistory> {
  return {
    id: row.id,
    agent_id: row.agent_id,
    author_name: row.author_name,
    author_email: row.author_email,
    branch_name: row.branch_name,
    build_timestamp: iso(row.build_timestamp),
    deployment_timestamp: iso(row.deployment_timestamp),
    commit_hash: row.commit_hash,
    deployment_id: row.deployment_id,
  };
}
