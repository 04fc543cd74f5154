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
  agentCounts,
  agentPage,
  agentPermissions,
  deleteAgent,
  getAgent,
  listAgents,
  register,
  registerBuild,
  rotateInternalKey,
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
    .mutation(({ ctx, input }) => registerBuild(ctx, input)),

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
    .mutation(({ ctx, input }) => register(ctx, input)),

  get: authedProcedure
    .meta({ openapi: { method: "GET", path: "/agents/{agent_id}", tags, summary: "Get an agent by id" } })
    .input(AgentIdInput)
    .output(Agent)
    .query(({ ctx, input }) => getAgent(ctx, { id: input.agent_id })),

  getByName: authedProcedure
    .meta({
      openapi: { method: "GET", path: "/agents/name/{agent_name}", tags, summary: "Get an agent by name" },
    })
    .input(AgentNameInput)
    .output(Agent)
    .query(({ ctx, input }) => getAgent(ctx, { name: input.agent_name })),

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
    .query(({ ctx, input }) => listAgents(ctx, input)),

  /** Keyset variant of `list` (tRPC only): pages stay fast at any depth. */
  listPage: authedProcedure
    .input(ListAgentsPageInput)
    .output(AgentPage)
    .query(({ ctx, input }) => agentPage(ctx, input)),

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
    .mutation(({ ctx, input }) => rotateInternalKey(ctx, input.agent_id)),

  /** Live agents the caller can read, per status (tRPC only; the console's filter counts). */
  counts: authedProcedure
    .input(z.void())
    .output(AgentCounts)
    .query(({ ctx }) => agentCounts(ctx)),

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
    .query(({ ctx, input }) => agentPermissions(ctx, input.agent_id)),

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
