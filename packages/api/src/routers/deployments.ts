import {
  CreateDeploymentInput,
  DeletedResponse,
  Deployment,
  DeploymentPage,
  DeploymentRef,
  ListDeploymentsInput,
  ListDeploymentsPageInput,
  PromoteInput,
  createDeployment,
  deleteDeployment,
  deploymentPage,
  getDeployment,
  listDeployments,
  promote,
} from "@agentex/core";
import { z } from "zod";
import { authedProcedure, mutationProcedure, router } from "../trpc.ts";

const tags = ["deployments"];

export const deploymentsRouter = router({
  create: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agents/{agent_id}/deployments",
        tags,
        summary: "Create a Pending deployment",
      },
    })
    .input(CreateDeploymentInput)
    .output(Deployment)
    .mutation(({ ctx, input }) => createDeployment(ctx, input)),

  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agents/{agent_id}/deployments",
        tags,
        summary: "List an agent's deployments, newest first",
        description:
          'A bare JSON array (Agentex shape). Deleted (expired) deployments are left out. `limit` (default 50), `page_number`, `order_by` (created_at, promoted_at), `order_direction`; or an opaque `cursor`, honoured under the ordering it was issued for. When there is a next page its cursor is in the `x-next-cursor` header and `Link: <…>; rel="next"`.',
      },
    })
    .input(ListDeploymentsInput)
    .output(z.array(Deployment))
    .query(({ ctx, input }) => listDeployments(ctx, input)),

  /** Keyset variant of `list` (tRPC only). */
  listPage: authedProcedure
    .input(ListDeploymentsPageInput)
    .output(DeploymentPage)
    .query(({ ctx, input }) => deploymentPage(ctx, input)),

  get: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agents/{agent_id}/deployments/{deployment_id}",
        tags,
        summary: "Get one deployment",
      },
    })
    .input(DeploymentRef)
    .output(Deployment)
    .query(({ ctx, input }) => getDeployment(ctx, input)),

  promote: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agents/{agent_id}/deployments/{deployment_id}/promote",
        tags,
        summary: "Promote a Ready deployment to production (atomic cutover)",
        description:
          "Appends a row to the promotion ledger (none when it already is production). " +
          "expected_current_deployment_id makes it a compare-and-swap (409 PRODUCTION_CHANGED).",
      },
    })
    .input(PromoteInput)
    .output(Deployment)
    .mutation(({ ctx, input }) => promote(ctx, input)),

  /**
   * Agentex's rollback route, which promotes the deployment it names (with the
   * same atomic cutover and rules, recorded as a promote). Not `rollback`: that
   * name is the ledger's (promotions.rollback pops it).
   */
  reinstate: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agents/{agent_id}/deployments/{deployment_id}/rollback",
        tags,
        summary:
          "Reinstate an earlier Ready deployment (Agentex's rollback route): promotes it, recorded in the ledger as a promote",
        description:
          "To go back to the previous production deployment per the ledger (recorded as a rollback), use POST /agents/{agent_id}/rollback.",
      },
    })
    .input(DeploymentRef)
    .output(Deployment)
    .mutation(({ ctx, input }) => promote(ctx, input)),

  delete: mutationProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/agents/{agent_id}/deployments/{deployment_id}",
        tags,
        summary: "Delete a deployment (soft); the production deployment cannot be deleted",
      },
    })
    .input(DeploymentRef)
    .output(DeletedResponse)
    .mutation(({ ctx, input }) => deleteDeployment(ctx, input.agent_id, input.deployment_id)),
});
