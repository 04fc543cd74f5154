import {
  AgentIdInput,
  DeletedResponse,
  Grant,
  GrantRef,
  SetGrantInput,
  agentGrants,
  revokeGrant,
  setGrant,
  toGrant,
} from "@agentex/core";
import { z } from "zod";
import { authedProcedure, mutationProcedure, router } from "../trpc.ts";

const tags = ["sharing"];

export const grantsRouter = router({
  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agents/{agent_id}/grants",
        tags,
        summary: "Who may do what on an agent (owner/admin)",
      },
    })
    .input(AgentIdInput)
    .output(z.array(Grant))
    .query(async ({ ctx, input }) => (await agentGrants(ctx, input.agent_id)).map(toGrant)),

  set: mutationProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/agents/{agent_id}/grants/{principal_id}",
        tags,
        summary: "Grant or change a role (owner/admin)",
      },
    })
    .input(SetGrantInput)
    .output(Grant)
    .mutation(async ({ ctx, input }) => toGrant(await setGrant(ctx, input))),

  revoke: mutationProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/agents/{agent_id}/grants/{principal_id}",
        tags,
        summary: "Revoke a role (owner/admin)",
      },
    })
    .input(GrantRef)
    .output(DeletedResponse)
    .mutation(({ ctx, input }) => revokeGrant(ctx, input)),
});
