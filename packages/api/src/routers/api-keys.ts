import { z } from 'zod';
import { actorId } from '../auth.ts';
import { assertAllowed, loadAuthorized, roleOn } from '../access.ts';
import { notFound } from '../errors.ts';
import { findLiveAgentById } from '../queries/agents.ts';
import { createExternalKey, findLiveKey, listLiveKeys, revokeKeys } from '../queries/keys.ts';
import {
  AgentApiKey,
  AgentApiKeyIdInput,
  CreateAgentApiKeyInput,
  CreatedAgentApiKey,
  ListAgentApiKeysInput,
  toAgentApiKey,
} from '../schemas/access.ts';
import { DeletedResponse } from '../schemas/common.ts';
import { authedProcedure, router } from '../trpc.ts';

const tags = ['agent api keys'];

export const agentApiKeysRouter = router({
  create: authedProcedure
    .meta({ openapi: { method: 'POST', path: '/agent_api_keys', tags, summary: 'Create an API key for an agent (owner/admin); shown once' } })
    .input(CreateAgentApiKeyInput)
    .output(CreatedAgentApiKey)
    .mutation(async ({ ctx, input }) => {
      const ref = input.agent_id ?? input.agent_name ?? '';
      const by = input.agent_id ? { id: input.agent_id } : { name: input.agent_name ?? '' };
      const agent = await loadAuthorized(ctx.db, ctx.principal, by, 'own', ref);
      const { row, key } = await createExternalKey(ctx.db, {
        agent_id: agent.id,
        name: input.name,
        api_key_type: input.api_key_type,
        created_by: actorId(ctx.principal),
      });
      return { ...toAgentApiKey(row), api_key: key };
    }),

  list: authedProcedure
    .meta({ openapi: { method: 'GET', path: '/agent_api_keys', tags, summary: "An agent's live keys (owner/admin); never the secrets" } })
    .input(ListAgentApiKeysInput)
    .output(z.array(AgentApiKey))
    .query(async ({ ctx, input }) => {
      const agent = await loadAuthorized(ctx.db, ctx.principal, { id: input.agent_id }, 'own', input.agent_id);
      return (await listLiveKeys(ctx.db, agent.id)).map(toAgentApiKey);
    }),

  revoke: authedProcedure
    .meta({ openapi: { method: 'DELETE', path: '/agent_api_keys/{id}', tags, summary: 'Revoke an agent API key (owner/admin)' } })
    .input(AgentApiKeyIdInput)
    .output(DeletedResponse)
    .mutation(async ({ ctx, input }) => {
      const key = await findLiveKey(ctx.db, input.id);
      const agent = key ? await findLiveAgentById(ctx.db, key.agent_id) : undefined;
      if (!key || !agent) throw notFound('Agent API key', input.id);
      const role = await roleOn(ctx.db, ctx.principal, agent.id);
      if (!role) throw notFound('Agent API key', input.id);
      assertAllowed(role, 'own', agent.id);
      await revokeKeys(ctx.db, { id: key.id });
      await ctx.auth?.credential(key.id);
      return { id: key.id, message: `Agent API key '${key.id}' revoked` };
    }),
});
