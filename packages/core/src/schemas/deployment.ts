import { DEPLOYMENT_HEALTH, DEPLOYMENT_STATUSES, type DeploymentRow } from "@agentex/db";
import { z } from "zod";
import { Cursor, IsoTimestamp, JsonObject, Uuid, iso, text } from "./common.ts";
import { PageLimit, pagingFields } from "./paging.ts";

export const DeploymentStatus = z.enum(DEPLOYMENT_STATUSES).meta({ id: "DeploymentStatus" });

/** What the health checks last concluded about a Ready deployment's URL (its `status` is lifecycle only). */
export const DeploymentHealth = z.enum(DEPLOYMENT_HEALTH).meta({ id: "DeploymentHealth" });

export const Deployment = z
  .object({
    id: Uuid,
    agent_id: Uuid,
    docker_image: z.string().meta({
      description:
        'Full image URI; "unknown" for a deployment that appeared through a deployment-scoped register',
    }),
    registration_metadata: z.record(z.string(), z.unknown()).nullable(),
    status: DeploymentStatus,
    acp_url: z.string().nullable(),
    is_production: z.boolean(),
    sgp_deploy_id: z.string().nullable(),
    helm_release_name: z.string().nullable(),
    created_at: IsoTimestamp,
    promoted_at: IsoTimestamp.nullable(),
    expires_at: IsoTimestamp.nullable(),
    health: DeploymentHealth,
    health_reason: z.string().nullable(),
  })
  .meta({ id: "Deployment" });
export type Deployment = z.infer<typeof Deployment>;

export const DeploymentRef = z.object({ agent_id: Uuid, deployment_id: Uuid });

export const CreateDeploymentInput = z.object({
  agent_id: Uuid,
  docker_image: text(1024).min(1).meta({ description: "Full Docker image URI (required, as in Agentex)" }),
  registration_metadata: JsonObject.nullish(),
  sgp_deploy_id: text(256).nullish(),
  helm_release_name: text(256).nullish(),
});
export type CreateDeploymentInput = z.infer<typeof CreateDeploymentInput>;

export const DEPLOYMENT_ORDER_BY = ["created_at", "promoted_at"] as const;
export type DeploymentOrderBy = (typeof DEPLOYMENT_ORDER_BY)[number];

/** Agentex's list: offset pages (`page_number`), newest first by default, 50 per page; or a cursor. */
export const ListDeploymentsInput = z.object({
  agent_id: Uuid,
  ...pagingFields(DEPLOYMENT_ORDER_BY),
});
export type ListDeploymentsInput = z.infer<typeof ListDeploymentsInput>;

/** Keyset paging (tRPC only): newest first, fast at any depth. */
export const ListDeploymentsPageInput = z.object({
  agent_id: Uuid,
  limit: PageLimit,
  cursor: Cursor.nullish(),
});
export type ListDeploymentsPageInput = z.infer<typeof ListDeploymentsPageInput>;

export const DeploymentPage = z.object({ items: z.array(Deployment), next_cursor: z.string().nullable() });
export type DeploymentPage = z.infer<typeof DeploymentPage>;

export function toDeployment(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    agent_id: row.agent_id,
    docker_image: row.docker_image,
    registration_metadata: row.registration_metadata,
    status: row.status,
    acp_url: row.acp_url,
    is_production: row.is_production,
    sgp_deploy_id: row.sgp_deploy_id,
    helm_release_name: row.helm_release_name,
    created_at: iso(row.created_at),
    promoted_at: iso(row.promoted_at),
    expires_at: iso(row.expires_at),
    health: row.health,
    health_reason: row.health_reason,
  };
}
