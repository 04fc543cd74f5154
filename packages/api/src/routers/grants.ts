import { withTransaction } from "@agentex/db";
import { z } from "zod";
import { actorId } from "../auth.ts";
import { authorize, loadAuthorized } from "../access.ts";
import { conflict, notFound } from "../errors.ts";
import { lockLiveAgent } from "../queries/agents.ts";
import { countOwners, deleteGrant, findGrant, listGrants, putGrant } from "../queries/grants.ts";
import { lockLivePrincipal } from "../queries/principals.ts";
import { AgentIdInput } from "../schemas/agent.ts";
import { Grant, GrantRef, SetGrantInput, toGrant } from "../schemas/access.ts";
import { DeletedResponse } from "../schemas/common.ts";
import { authedProcedure, mutationProcedure, router } from "../trpc.ts";

const tags = ["sharing"];
const LAST_OWNER = "an agent must keep at least one owner; make someone else owner first";

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
    .query(async ({ ctx, input }) => {
      const agent = await loadAuthorized(
        ctx.db,
        ctx.principal,
        { id: input.agent_id },
        "own",
        input.agent_id,
      );
      return (await listGrants(ctx.db, agent.id)).map(toGrant);
    }),

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
    .mutation(({ ctx, input }) =>
      withTransaction(ctx.db, async (trx) => {
        const agent = await lockLiveAgent(trx, { id: input.agent_id });
        if (!agent) throw notFound("Agent", input.agent_id);
        await authorize(trx, ctx.principal, agent, "own", input.agent_id);
        // Share-locked: a principal being deleted cannot receive a grant that would outlive it.
        const grantee = await lockLivePrincipal(trx, input.principal_id, "share");
        if (!grantee) throw notFound("Principal", input.principal_id);
        const current = await findGrant(trx, agent.id, grantee.id);
        if (current?.role === "owner" && input.role !== "owner" && (await countOwners(trx, agent.id)) <= 1) {
          throw conflict(LAST_OWNER);
        }
        const grant = await putGrant(trx, {
          agent_id: agent.id,
          principal_id: grantee.id,
          role: input.role,
          granted_by: actorId(ctx.principal),
        });
        return toGrant(grant);
      }),
    ),

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
    .mutation(({ ctx, input }) =>
      withTransaction(ctx.db, async (trx) => {
        const agent = await lockLiveAgent(trx, { id: input.agent_id });
        if (!agent) throw notFound("Agent", input.agent_id);
        await authorize(trx, ctx.principal, agent, "own", input.agent_id);
        const current = await findGrant(trx, agent.id, input.principal_id);
        if (!current) throw notFound("Grant", input.principal_id);
        if (current.role === "owner" && (await countOwners(trx, agent.id)) <= 1) throw conflict(LAST_OWNER);
        await deleteGrant(trx, agent.id, input.principal_id);
        return {
          id: input.principal_id,
          message: `Grant of '${input.principal_id}' on agent '${input.agent_id}' revoked`,
        };
      }),
    ),
});
