import { withTransaction } from "@agentex/db";
import { z } from "zod";
import { assertAllowed, roleOn } from "../access.ts";
import { DomainError, notFound } from "../errors.ts";
import {
  agentFor,
  agentRef,
  createApiKey,
  createWebhookTrigger,
  keyNameParam,
} from "../lifecycle/api-keys.ts";
import { findLiveAgentById } from "../queries/agents.ts";
import { findLiveKey, findLiveKeyByName, listLiveKeysPage, revokeKeys } from "../queries/keys.ts";
import {
  AgentApiKey,
  AgentApiKeyIdInput,
  AgentApiKeyNameInput,
  CreateAgentApiKeyInput,
  CreateWebhookTriggerInput,
  CreatedAgentApiKey,
  DeleteAgentApiKeyByNameInput,
  ListAgentApiKeysInput,
  WebhookTrigger,
  toAgentApiKey,
} from "../schemas/access.ts";
import { authedProcedure, mutationProcedure, router } from "../trpc.ts";
import type { Context } from "../context.ts";
import type { Caller } from "../auth.ts";

const tags = ["agent api keys"];

/** A live key whose agent the caller owns; 404 for anyone else, as for a key that does not exist. */
async function ownedKey(ctx: Context & { principal: Caller }, id: string) {
  const key = await findLiveKey(ctx.db, id);
  const agent = key ? await findLiveAgentById(ctx.db, key.agent_id) : undefined;
  if (!key || !agent) throw notFound("Agent API key", id);
  const role = await roleOn(ctx.db, ctx.principal, agent.id);
  if (!role) throw notFound("Agent API key", id);
  assertAllowed(role, "own", agent.id);
  return key;
}

// Order matters for the REST bridge (first matching path wins): the /name/ and
// /webhook-trigger paths come before /agent_api_keys/{id}.
export const agentApiKeysRouter = router({
  create: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agent_api_keys",
        tags,
        summary: "Create an API key for an agent (owner/admin); the key is shown once",
        description:
          "Give agent_id or agent_name. `api_key` may carry a caller-chosen value (16+ characters, e.g. a webhook secret shared with GitHub or Slack).",
      },
    })
    .input(CreateAgentApiKeyInput)
    .output(CreatedAgentApiKey)
    .mutation(async ({ ctx, input }) => {
      const { row, key } = await createApiKey(ctx, input);
      return { ...toAgentApiKey(row), api_key: key };
    }),

  webhookTrigger: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agent_api_keys/webhook-trigger",
        tags,
        summary:
          "Register a GitHub/Slack signing secret for an agent and get the forward URL to paste into the source (owner/admin)",
      },
    })
    .input(CreateWebhookTriggerInput)
    .output(WebhookTrigger)
    .mutation(({ ctx, input }) => createWebhookTrigger(ctx, input)),

  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agent_api_keys",
        tags,
        summary: "An agent's live keys, newest first (owner/admin); never the secrets",
      },
    })
    .input(ListAgentApiKeysInput)
    .output(z.array(AgentApiKey))
    .query(async ({ ctx, input }) => {
      const agent = await agentFor(ctx.db, ctx.principal, agentRef(input, "list agent api_keys"), "own");
      return (await listLiveKeysPage(ctx.db, agent.id, input.limit, input.page_number)).map(toAgentApiKey);
    }),

  getByName: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agent_api_keys/name/{name}",
        tags,
        summary: "An agent's key by name and type (owner/admin)",
      },
    })
    .input(AgentApiKeyNameInput)
    .output(AgentApiKey)
    .query(async ({ ctx, input }) => {
      const name = keyNameParam(input.name, "name");
      const agent = await agentFor(ctx.db, ctx.principal, agentRef(input, "get an agent api_key"), "own");
      const key = await findLiveKeyByName(ctx.db, agent.id, input.api_key_type, name);
      if (!key)
        throw new DomainError("not_found", `Agent api_key '${name}' not found for agent ID ${agent.id}`);
      return toAgentApiKey(key);
    }),

  deleteByName: mutationProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/agent_api_keys/name/{api_key_name}",
        tags,
        summary: "Revoke an agent's key by name and type (owner/admin)",
      },
    })
    .input(DeleteAgentApiKeyByNameInput)
    .output(z.string())
    .mutation(async ({ ctx, input }) => {
      const name = keyNameParam(input.api_key_name, "api_key_name");
      const agent = await agentFor(ctx.db, ctx.principal, agentRef(input, "delete an agent api_key"), "own");
      const key = await findLiveKeyByName(ctx.db, agent.id, input.api_key_type, name);
      if (!key)
        throw new DomainError("not_found", `Agent api_key '${name}' not found for agent ID ${agent.id}`);
      await revokeKeys(ctx.db, { id: key.id });
      await ctx.auth?.credential(key.id);
      return `Agent api_key '${name}' deleted`;
    }),

  get: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agent_api_keys/{id}",
        tags,
        summary: "An agent API key by id (owner/admin); never the secret",
      },
    })
    .input(AgentApiKeyIdInput)
    .output(AgentApiKey)
    .query(async ({ ctx, input }) => toAgentApiKey(await ownedKey(ctx, input.id))),

  revoke: mutationProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/agent_api_keys/{id}",
        tags,
        summary: "Revoke an agent API key (owner/admin)",
      },
    })
    .input(AgentApiKeyIdInput)
    .output(z.string())
    .mutation(async ({ ctx, input }) => {
      const key = await ownedKey(ctx, input.id);
      await revokeKeys(ctx.db, { id: key.id });
      await ctx.auth?.credential(key.id);
      return `Agent API key with ID ${key.id} deleted`;
    }),
});
