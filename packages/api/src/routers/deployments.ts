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
  findDeployment,
  listLiveDeployments,
  listLiveDeploymentsByPage,
  loadAgent,
  notFound,
  promote,
  toDeployment,
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
    .mutation(async ({ ctx, input }) => toDeployment(await createDeployment(ctx, input))),

  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agents/{agent_id}/deployments",
        tags,
        summary: "List an agent's deployments, newest first",
        description:
          'Deleted (expired) deployments are left out. `limit` (default 50), `page_number`, `order_by` (created_at, promoted_at), `order_direction`; or an opaque `cursor`. When there is a next page its cursor is in the `x-next-cursor` header and `Link: <…>; rel="next"`.',
      },
    })
    .input(ListDeploymentsInput)
    .output(z.array(Deployment))
    .query(async ({ ctx, input }) => {
      await loadAgent(ctx.db, ctx.principal, { id: input.agent_id }, "read");
      // Keyset when the caller follows a cursor, or asks for the first page in the default order (so a next
      // cursor can be offered); Agentex's offset pages otherwise.
      const keyset =
        input.cursor !== undefined ||
        (input.page_number === 1 && input.order_by === "created_at" && input.order_direction === "desc");
      if (keyset) {
        const { rows, nextCursor } = await listLiveDeployments(
          ctx.db,
          input.agent_id,
          input.limit,
          input.cursor,
        );
        if (nextCursor) ctx.onNextCursor?.(nextCursor);
        return rows.map(toDeployment);
      }
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
      await loadAgent(ctx.db, ctx.principal, { id: input.agent_id }, "read");
      const { rows, nextCursor } = await listLiveDeployments(
        ctx.db,
        input.agent_id,
        input.limit,
        input.cursor,
      );
      return { items: rows.map(toDeployment), next_cursor: nextCursor };
    }),

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
    .query(async ({ ctx, input }) => {
      await loadAgent(ctx.db, ctx.principal, { id: input.agent_id }, "read");
      const deployment = await findDeployment(ctx.db, input.agent_id, input.deployment_id);
      if (!deployment) throw notFound("Deployment", input.deployment_id);
      return toDeployment(deployment);
    }),

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
    .mutation(async ({ ctx, input }) =>
      toDeployment(
        await promote(ctx, input.agent_id, input.deployment_id, {
          reason: input.reason,
          expected_current_deployment_id: input.expected_current_deployment_id,
        }),
      ),
    ),

  /** Agentex's rollback: promoting an earlier deployment, with the same atomic cutover and rules. */
  rollback: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agents/{agent_id}/deployments/{deployment_id}/rollback",
        tags,
        summary:
          "Roll back to an earlier Ready deployment (Agentex): promotes it, recorded in the ledger as a promote",
      },
    })
    .input(DeploymentRef)
    .output(Deployment)
    .mutation(async ({ ctx, input }) =>
      toDeployment(await promote(ctx, input.agent_id, input.deployment_id)),
    ),

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
