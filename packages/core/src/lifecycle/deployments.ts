import { loadAgent } from "../access.ts";
import { actorId } from "../auth.ts";
import { conflict, notFound } from "../errors.ts";
import {
  expireDeployment,
  findDeployment,
  insertDeployment,
  listLiveDeployments,
} from "../queries/deployments.ts";
import type { DeletedResponse } from "../schemas/common.ts";
import {
  toDeployment,
  type CreateDeploymentInput,
  type Deployment,
  type DeploymentPage,
  type ListDeploymentsInput,
  type ListDeploymentsPageInput,
} from "../schemas/deployment.ts";
import { pageOf } from "../schemas/paging.ts";
import { inTransaction, type Actor, type ListReader, type Reader } from "./actor.ts";
import { deploymentChange } from "./changes.ts";

// An agent's deployments: reading them, creating and deleting one. Changing which one is
// production (promote, rollback) is in production.ts.
//
// Every write to a deployment first locks its agent row (loadAgent with `lock`). One lock
// order (agent, then its deployments) for every writer is what rules deadlocks out.

/**
 * Agentex's list (a bare array) of an agent's live deployments, for its
 * readers: by offset page or cursor (one rule: `pageOf`), in the requested
 * order either way; the next page's cursor goes to the host for the headers.
 */
export async function listDeployments(
  reader: ListReader,
  input: ListDeploymentsInput,
): Promise<Deployment[]> {
  const start = pageOf(input);
  await loadAgent(reader.db, reader.principal, { id: input.agent_id }, "read");
  const { rows, nextCursor } = await listLiveDeployments(reader.db, input.agent_id, {
    orderBy: input.order_by,
    direction: input.order_direction,
    limit: input.limit,
    ...start,
  });
  if (nextCursor) reader.onNextCursor?.(nextCursor);
  return rows.map(toDeployment);
}

/** Keyset pages of an agent's live deployments, newest first (the console). */
export async function deploymentPage(
  reader: Reader,
  input: ListDeploymentsPageInput,
): Promise<DeploymentPage> {
  await loadAgent(reader.db, reader.principal, { id: input.agent_id }, "read");
  const { rows, nextCursor } = await listLiveDeployments(reader.db, input.agent_id, {
    orderBy: "created_at",
    direction: "desc",
    limit: input.limit,
    cursor: input.cursor,
  });
  return { items: rows.map(toDeployment), next_cursor: nextCursor };
}

/** One deployment of an agent the caller may read (deleted ones included, with their `expires_at`). */
export async function getDeployment(
  reader: Reader,
  ref: { agent_id: string; deployment_id: string },
): Promise<Deployment> {
  await loadAgent(reader.db, reader.principal, { id: ref.agent_id }, "read");
  const deployment = await findDeployment(reader.db, ref.agent_id, ref.deployment_id);
  if (!deployment) throw notFound("Deployment", ref.deployment_id);
  return toDeployment(deployment);
}

export async function createDeployment(actor: Actor, input: CreateDeploymentInput): Promise<Deployment> {
  const row = await inTransaction(actor, async (trx, emit) => {
    await loadAgent(trx, actor.principal, { id: input.agent_id }, "deploy", { lock: true });
    const row = await insertDeployment(trx, {
      agent_id: input.agent_id,
      docker_image: input.docker_image,
      registration_metadata: input.registration_metadata ? JSON.stringify(input.registration_metadata) : null,
      sgp_deploy_id: input.sgp_deploy_id ?? null,
      helm_release_name: input.helm_release_name ?? null,
      status: "Pending",
      created_by: actorId(actor.principal),
    });
    emit("deployment_created", deploymentChange("deployment.created", row));
    return row;
  });
  return toDeployment(row);
}

/** Soft delete: sets `expires_at`. The production deployment cannot go (promote another first). */
export async function deleteDeployment(
  actor: Actor,
  agentId: string,
  deploymentId: string,
): Promise<DeletedResponse> {
  return inTransaction(actor, async (trx, emit) => {
    await loadAgent(trx, actor.principal, { id: agentId }, "deploy", { lock: true });
    const deployment = await findDeployment(trx, agentId, deploymentId);
    if (!deployment || deployment.expires_at) throw notFound("Deployment", deploymentId);
    if (deployment.is_production) {
      throw conflict(`deployment '${deploymentId}' is the production deployment; promote another one first`);
    }
    await expireDeployment(trx, deploymentId);
    emit("deployment_deleted", deploymentChange("deployment.deleted", deployment));
    return { id: deploymentId, message: `Deployment '${deploymentId}' deleted successfully` };
  });
}
