import {
  Agent,
  AgentCounts,
  AgentIdInput,
  AgentNameInput,
  AgentPage,
  AgentPermissions,
  DeletedResponse,
  ListAgentsInput,
  ListAgentsPageInput,
  RegisterBuildInput,
  RegisterInput,
  RegisteredAgent,
  RotatedAgentKey,
  allowedActions,
  checkAccess,
  countAgentsByStatus,
  deleteAgent,
  findAgentAccess,
  invalid,
  listAgentsByCursor,
  listAgentsByOffset,
  loadAgent,
  register,
  registerBuild,
  rotateInternalKey,
  toAgent,
  toAgentApiKey,
} from "@agentex/core";
import { z } from "zod";
import { authedProcedure, mutationProcedure, router } from "../trpc.ts";

const tags = ["agents"];

export const agentsRouter = router({
  registerBuild: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agents/register-build",
        tags,
        summary: "Register an agent at build time",
        description:
          "Idempotent by name: returns the live agent of that name if you can read it (unchanged), creates a BuildOnly agent owned by you if none exists, and answers 409 if the name belongs to an agent you cannot see.",
      },
    })
    .input(RegisterBuildInput)
    .output(Agent)
    .mutation(async ({ ctx, input }) => toAgent(await registerBuild(ctx, input))),

  register: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agents/register",
        tags,
        summary: "Register a running agent (or one of its deployments)",
        description:
          "With registration_metadata.deployment_id, marks that deployment Ready at acp_url; otherwise points the agent itself at acp_url (legacy). Returns the agent and its internal API key.",
      },
    })
    .input(RegisterInput)
    .output(RegisteredAgent)
    .mutation(async ({ ctx, input }) => {
      const { agent, key } = await register(ctx, input);
      return { ...toAgent(agent), agent_api_key: key };
    }),

  get: authedProcedure
    .meta({ openapi: { method: "GET", path: "/agents/{agent_id}", tags, summary: "Get an agent by id" } })
    .input(AgentIdInput)
    .output(Agent)
    .query(async ({ ctx, input }) =>
      toAgent(await loadAgent(ctx.db, ctx.principal, { id: input.agent_id }, "read")),
    ),

  getByName: authedProcedure
    .meta({
      openapi: { method: "GET", path: "/agents/name/{agent_name}", tags, summary: "Get an agent by name" },
    })
    .input(AgentNameInput)
    .output(Agent)
    .query(async ({ ctx, input }) =>
      toAgent(await loadAgent(ctx.db, ctx.principal, { name: input.agent_name }, "read")),
    ),

  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agents",
        tags,
        summary: "List the agents you can read",
        description:
          'A bare JSON array (Agentex shape). Deleted agents are never listed. When there is a next page its cursor is in the `x-next-cursor` header and `Link: <…>; rel="next"`; pass it back as `cursor` for pages that stay fast at any depth.',
      },
    })
    .input(ListAgentsInput)
    .output(z.array(Agent))
    .query(async ({ ctx, input }) => {
      if (input.cursor !== undefined && input.page_number !== undefined) {
        throw invalid([{ field: "cursor", message: "give either cursor or page_number, not both" }]);
      }
      if (input.status === "Deleted") return [];
      const q = {
        orderBy: input.order_by,
        direction: input.order_direction,
        status: input.status,
        limit: input.limit,
      };
      const { rows, nextCursor } =
        input.cursor !== undefined
          ? await listAgentsByCursor(ctx.db, ctx.principal, { ...q, cursor: input.cursor })
          : await listAgentsByOffset(ctx.db, ctx.principal, {
              ...q,
              offset: ((input.page_number ?? 1) - 1) * input.limit,
            });
      if (nextCursor) ctx.onNextCursor?.(nextCursor);
      return rows.map(toAgent);
    }),

  /** Keyset variant of `list` (tRPC only): pages stay fast at any depth. */
  listPage: authedProcedure
    .input(ListAgentsPageInput)
    .output(AgentPage)
    .query(async ({ ctx, input }) => {
      if (input.status === "Deleted") return { items: [], next_cursor: null };
      const { rows, nextCursor } = await listAgentsByCursor(ctx.db, ctx.principal, {
        orderBy: input.order_by,
        direction: input.order_direction,
        status: input.status,
        limit: input.limit,
        cursor: input.cursor,
        search: input.search,
      });
      return { items: rows.map(toAgent), next_cursor: nextCursor };
    }),

  rotateKey: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agents/{agent_id}/keys/rotate",
        tags,
        summary: "Rotate the agent's internal key (owner/admin)",
        description:
          "Revokes the internal key that register hands to pods and mints a new one. The old key stops working at once; every pod receives the new key at its next register.",
      },
    })
    .input(AgentIdInput)
    .output(RotatedAgentKey)
    .mutation(async ({ ctx, input }) => {
      const { row, key } = await rotateInternalKey(ctx, input.agent_id);
      return { ...toAgentApiKey(row), agent_api_key: key };
    }),

  /** Live agents the caller can read, per status (tRPC only; the console's filter counts). */
  counts: authedProcedure
    .input(z.void())
    .output(AgentCounts)
    .query(async ({ ctx }) => {
      const by_status = { BuildOnly: 0, Ready: 0, Unhealthy: 0, Failed: 0, Unknown: 0 };
      let total = 0;
      for (const row of await countAgentsByStatus(ctx.db, ctx.principal)) {
        if (row.status === "Deleted") continue;
        by_status[row.status] = row.count;
        total += row.count;
      }
      return { total, by_status };
    }),

  permissions: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agents/{agent_id}/permissions",
        tags,
        summary: "What the caller may do on an agent",
        description:
          "The caller's effective role (admin, owner, deployer, viewer, or self for an agent key) and the actions it allows.",
      },
    })
    .input(AgentIdInput)
    .output(AgentPermissions)
    .query(async ({ ctx, input }) => {
      const found = await findAgentAccess(ctx.db, ctx.principal, { id: input.agent_id });
      const { agent, role } = checkAccess(found, "read", input.agent_id);
      return {
        agent_id: agent.id,
        role: ctx.principal.admin ? "admin" : role,
        actions: allowedActions(role),
      };
    }),

  delete: mutationProcedure
    .meta({
      openapi: { method: "DELETE", path: "/agents/{agent_id}", tags, summary: "Delete an agent (soft)" },
    })
    .input(AgentIdInput)
    .output(DeletedResponse)
    .mutation(({ ctx, input }) => deleteAgent(ctx, { id: input.agent_id })),

  deleteByName: mutationProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/agents/name/{agent_name}",
        tags,
        summary: "Delete an agent by name (soft)",
      },
    })
    .input(AgentNameInput)
    .output(DeletedResponse)
    .mutation(({ ctx, input }) => deleteAgent(ctx, { name: input.agent_name })),
});
