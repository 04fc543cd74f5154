import {
  DeploymentHistory,
  DeploymentHistoryIdInput,
  ListDeploymentHistoryInput,
  agentHistory,
  historyRecord,
  toDeploymentHistory,
} from "@agentex/core";
import { z } from "zod";
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
    .query(async ({ ctx, input }) => (await agentHistory(ctx, input)).map(toDeploymentHistory)),

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
    .query(async ({ ctx, input }) => toDeploymentHistory(await historyRecord(ctx, input.deployment_id))),
});
