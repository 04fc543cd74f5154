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
  apiKeyByName,
  createApiKey,
  createWebhookTrigger,
  listApiKeys,
  ownedApiKey,
  revokeApiKey,
  revokeApiKeyByName,
  toAgentApiKey,
} from "@agentex/core";
import { z } from "zod";
import { authedProcedure, mutationProcedure, router } from "../trpc.ts";

const tags = ["agent api keys"];

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
    .query(async ({ ctx, input }) => (await listApiKeys(ctx, input)).map(toAgentApiKey)),

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
    .query(async ({ ctx, input }) =>
      toAgentApiKey(
        await apiKeyByName(ctx, input, { raw: input.name, field: "name" }, "get an agent api_key"),
      ),
    ),

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
    .mutation(({ ctx, input }) => revokeApiKeyByName(ctx, input)),

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
    .query(async ({ ctx, input }) => toAgentApiKey(await ownedApiKey(ctx, input.id))),

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
    .mutation(({ ctx, input }) => revokeApiKey(ctx, input.id)),
});
