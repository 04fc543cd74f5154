import { DEPLOYMENT_STATUSES, type DeploymentRow } from '@agentex/db';
import { z } from 'zod';
import { Cursor, IsoTimestamp, JsonObject, Uuid, iso, text } from './common.ts';
import { MAX_PAGE_SIZE } from './agent.ts';

export const DeploymentStatus = z.enum(DEPLOYMENT_STATUSES).meta({ id: 'DeploymentStatus' });

export const Deployment = z
  .object({
    id: Uuid,
    agent_id: Uuid,
    docker_image: z.string().nullable(),
    registration_metadata: z.record(z.string(), z.unknown()).nullable(),
    status: DeploymentStatus,
    acp_url: z.string().nullable(),
    is_production: z.boolean(),
    sgp_deploy_id: z.string().nullable(),
    helm_release_name: z.string().nullable(),
    created_at: IsoTimestamp,
    promoted_at: IsoTimestamp.nullable(),
    expires_at: IsoTimestamp.nullable(),
  })
  .meta({ id: 'Deployment' });
export type Deployment = z.infer<typeof Deployment>;

export const DeploymentRef = z.object({ agent_id: Uuid, deployment_id: Uuid });

export const CreateDeploymentInput = z.object({
  agent_id: Uuid,
  docker_image: text(1024).nullish(),
  registration_metadata: JsonObject.nullish(),
  sgp_deploy_id: text(256).nullish(),
  helm_release_name: text(256).nullish(),
});
export type CreateDeploymentInput = z.infer<typeof CreateDeploymentInput>;

const deploymentListFilters = {
  agent_id: Uuid,
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(100),
};

export const ListDeploymentsInput = z.object({
  ...deploymentListFilters,
  cursor: Cursor.optional().meta({ description: 'Opaque keyset cursor from the `x-next-cursor` response header (or the `Link: rel="next"` URL)' }),
});

export const ListDeploymentsPageInput = z.object({ ...deploymentListFilters, cursor: Cursor.nullish() });

export const DeploymentPage = z.object({ items: z.array(Deployment), next_cursor: z.string().nullable() });

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
  };
}
