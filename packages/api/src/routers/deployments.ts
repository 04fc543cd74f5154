import { z } from 'zod';
import { authorize } from '../access.ts';
import { notFound } from '../errors.ts';
import { createDeployment, deleteDeployment, promote } from '../lifecycle/deployments.ts';
import { findLiveAgentById } from '../queries/agents.ts';
import { findDeployment, listLiveDeployments, listLiveDeploymentsByPage } from '../queries/deployments.ts';
import { DeletedResponse } from '../schemas/common.ts';
import {
  CreateDeploymentInput,
  Deployment,
  DeploymentPage,
  DeploymentRef,
  ListDeploymentsInput,
  ListDeploymentsPageInput,
  toDeployment,
} from '../schemas/deployment.ts';
import { authedProcedure, router } from '../trpc.ts';
import type { Context } from '../context.ts';
import type { Principal } from '../auth.ts';

const tags = ['deployments'];

async function readableAgent(ctx: Context & { principal: Principal }, agentId: string) {
  const agent = await findLiveAgentById(ctx.db, agentId);
  if (!agent) throw notFound('Agent', agentId);
  await authorize(ctx.db, ctx.principal, agent, 'read', agentId);
  return agent;
}

export const deploymentsRouter = router({
  create: authedProcedure
    .meta({ openapi: { method: 'POST', path: '/agents/{agent_id}/deployments', tags, summary: 'Create a Pending deployment' } })
    .input(CreateDeploymentInput)
    .output(Deployment)
    .mutation(async ({ ctx, input }) => toDeployment(await createDeployment(ctx, input))),

  list: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/agents/{agent_id}/deployments',
        tags,
        summary: "List an agent's deployments, newest first",
        description: 'Deleted (expired) deployments are left out. `limit` (default 50), `page_number`, `order_by` (created_at, promoted_at), `order_direction`.',
      },
    })
    .input(ListDeploymentsInput)
    .output(z.array(Deployment))
    .query(async ({ ctx, input }) => {
      await readableAgent(ctx, input.agent_id);
      const rows = await listLiveDeploymentsByPage(ctx.db, input.agent_id, {
        limit: input.limit,
        pageNumber: input.page_number,
        orderBy: input.order_by,
        direction: input.order_direction,
      });
      return rows.map(toDeployment);
    }),

  /** Keyset variant of `list` (tRPC only). */
  listPage: authedProcedure
    .input(ListDeploymentsPageInput)
    .output(DeploymentPage)
    .query(async ({ ctx, input }) => {
      await readableAgent(ctx, input.agent_id);
      const { rows, nextCursor } = await listLiveDeployments(ctx.db, input.agent_id, input.limit, input.cursor);
      return { items: rows.map(toDeployment), next_cursor: nextCursor };
    }),

  get: authedProcedure
    .meta({ openapi: { method: 'GET', path: '/agents/{agent_id}/deployments/{deployment_id}', tags, summary: 'Get one deployment' } })
    .input(DeploymentRef)
    .output(Deployment)
    .query(async ({ ctx, input }) => {
      await readableAgent(ctx, input.agent_id);
      const deployment = await findDeployment(ctx.db, input.agent_id, input.deployment_id);
      if (!deployment) throw notFound('Deployment', input.deployment_id);
      return toDeployment(deployment);
    }),

  promote: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/agents/{agent_id}/deployments/{deployment_id}/promote',
        tags,
        summary: 'Promote a Ready deployment to production (atomic cutover)',
      },
    })
    .input(DeploymentRef)
    .output(Deployment)
    .mutation(async ({ ctx, input }) => toDeployment(await promote(ctx, input.agent_id, input.deployment_id))),

  /** Agentex's rollback: promoting an earlier deployment, with the same atomic cutover and rules. */
  rollback: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/agents/{agent_id}/deployments/{deployment_id}/rollback',
        tags,
        summary: 'Roll back to an earlier Ready deployment (promotes it to production)',
      },
    })
    .input(DeploymentRef)
    .output(Deployment)
    .mutation(async ({ ctx, input }) => toDeployment(await promote(ctx, input.agent_id, input.deployment_id))),

  delete: authedProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/agents/{agent_id}/deployments/{deployment_id}',
        tags,
        summary: 'Delete a deployment (soft); the production deployment cannot be deleted',
      },
    })
    .input(DeploymentRef)
    .output(DeletedResponse)
    .mutation(({ ctx, input }) => deleteDeployment(ctx, input.agent_id, input.deployment_id)),
});
