import { z } from "zod";
import { roleOn } from "../access.ts";
import { DomainError } from "../errors.ts";
import { agentFor, agentRef } from "../lifecycle/api-keys.ts";
import { findLiveAgentById } from "../queries/agents.ts";
import { findHistory, listHistory } from "../queries/deployment-history.ts";
import {
  DeploymentHistory,
  DeploymentHistoryIdInput,
  ListDeploymentHistoryInput,
  toDeploymentHistory,
} from "../schemas/deployment-history.ts";
import { authedProcedure, router } from "../trpc.ts";

const tags = ["deployment history"];

export const deploymentHistoryRouter = router({
  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/deployment-history",
        tags,
        summary: "An agent's deployment history (readers of the agent)",
        description:
          "Give agent_id or agent_name; optionally commit_hash. Newest first, 50 per page by default.",
      },
    })
    .input(ListDeploymentHistoryInput)
    .output(z.array(DeploymentHistory))
    .query(async ({ ctx, input }) => {
      const agent = await agentFor(ctx.db, ctx.principal, agentRef(input, "list deployment history"), "read");
      const rows = await listHistory(ctx.db, agent.id, {
        commitHash: input.commit_hash ?? null,
        limit: input.limit,
        pageNumber: input.page_number,
        orderBy: input.order_by,
        direction: input.order_direction,
      });
      return rows.map(toDeploymentHistory);
    }),

  get: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/deployment-history/{deployment_id}",
        tags,
        summary: "One deployment history record",
      },
    })
    .input(DeploymentHistoryIdInput)
    .output(DeploymentHistory)
    .query(async ({ ctx, input }) => {
      const row = await findHistory(ctx.db, input.deployment_id);
      const agent = row ? await findLiveAgentById(ctx.db, row.agent_id) : undefined;
      // Readers of the agent only; anyone else is told it does not exist.
      if (!row || !agent || !(await roleOn(ctx.db, ctx.principal, agent.id))) {
        throw new DomainError(
          "not_found",
          `Deployment not found: deployment history record '${input.deployment_id}' not found`,
        );
      }
      return toDeploymentHistory(row);
    }),
});
