import type { DB, DeploymentRow, Transaction } from '@agentex/db';
import { sql } from 'kysely';
import { actorId } from '../auth.ts';
import { authorize, type AgentAction } from '../access.ts';
import { conflict, notFound, precondition } from '../errors.ts';
import { lockLiveAgent, updateAgent } from '../queries/agents.ts';
import { demoteProduction, findDeployment, markProduction } from '../queries/deployments.ts';
import type { DeletedResponse } from '../schemas/common.ts';
import type { CreateDeploymentInput } from '../schemas/deployment.ts';
import { inTransaction, type Actor } from './actor.ts';
import { deploymentChange, productionChanged } from './changes.ts';

/**
 * Every write to a deployment first locks its agent row. One lock order
 * (agent, then its deployments) for every writer is what rules deadlocks out.
 */
async function lockAuthorizedAgent(trx: Transaction<DB>, actor: Actor, agentId: string, action: AgentAction) {
  const agent = await lockLiveAgent(trx, { id: agentId });
  if (!agent) throw notFound('Agent', agentId);
  await authorize(trx, actor.principal, agent, action, agentId);
  return agent;
}

export async function createDeployment(actor: Actor, input: CreateDeploymentInput): Promise<DeploymentRow> {
  return inTransaction(actor, async (trx, emit) => {
    await lockAuthorizedAgent(trx, actor, input.agent_id, 'deploy');
    const row = await trx
      .insertInto('deployments')
      .values({
        agent_id: input.agent_id,
        docker_image: input.docker_image ?? null,
        registration_metadata: input.registration_metadata ? JSON.stringify(input.registration_metadata) : null,
        sgp_deploy_id: input.sgp_deploy_id ?? null,
        helm_release_name: input.helm_release_name ?? null,
        status: 'Pending',
        created_by: actorId(actor.principal),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    emit('deployment_created', deploymentChange('deployment.created', row));
    return row;
  });
}

/**
 * Atomic cutover: in one transaction with the agent row locked, the old
 * production deployment is demoted, the target promoted, and the agent pointed
 * at it. Promoting the current production deployment again changes nothing.
 */
export async function promote(actor: Actor, agentId: string, deploymentId: string): Promise<DeploymentRow> {
  return inTransaction(actor, async (trx, emit) => {
    const agent = await lockAuthorizedAgent(trx, actor, agentId, 'deploy');
    const deployment = await findDeployment(trx, agentId, deploymentId);
    if (!deployment) throw notFound('Deployment', deploymentId);
    if (deployment.expires_at) throw precondition(`deployment '${deploymentId}' was deleted and cannot be promoted`);
    if (deployment.is_production && agent.production_deployment_id === deployment.id) return deployment;
    if (deployment.status !== 'Ready') {
      throw precondition(`deployment '${deploymentId}' is ${deployment.status}; only a Ready deployment can be promoted`);
    }
    await demoteProduction(trx, agentId);
    const promoted = await markProduction(trx, deploymentId);
    const firstPromotion = agent.status === 'BuildOnly';
    const updated = await updateAgent(trx, agentId, {
      production_deployment_id: promoted.id,
      acp_url: promoted.acp_url,
      ...(firstPromotion ? { status: 'Ready', status_reason: null, registered_at: sql<Date>`now()` } : {}),
    });
    emit(
      'promotion',
      productionChanged(agentId, {
        from: agent.production_deployment_id,
        to: promoted.id,
        acp_url: updated.acp_url,
        status: updated.status,
        cause: 'promote',
      }),
    );
    return promoted;
  });
}

/** Soft delete: sets `expires_at`. The production deployment cannot go (promote another first). */
export async function deleteDeployment(actor: Actor, agentId: string, deploymentId: string): Promise<DeletedResponse> {
  return inTransaction(actor, async (trx, emit) => {
    await lockAuthorizedAgent(trx, actor, agentId, 'deploy');
    const deployment = await findDeployment(trx, agentId, deploymentId);
    if (!deployment || deployment.expires_at) throw notFound('Deployment', deploymentId);
    if (deployment.is_production) {
      throw conflict(`deployment '${deploymentId}' is the production deployment; promote another one first`);
    }
    await trx.updateTable('deployments').set({ expires_at: sql<Date>`now()` }).where('id', '=', deploymentId).execute();
    emit('deployment_deleted', deploymentChange('deployment.deleted', deployment));
    return { id: deploymentId, message: `Deployment '${deploymentId}' deleted successfully` };
  });
}
