import { z } from 'zod';
import { conflict, notFound } from '../errors.ts';
import { findLiveToken, findPrincipal, insertPrincipal, issueToken, listLiveTokens, listPrincipals, revokeToken } from '../queries/principals.ts';
import {
  CreatePrincipalInput,
  CreateTokenInput,
  CreatedPrincipal,
  IssuedToken,
  Me,
  Principal,
  PrincipalIdInput,
  Token,
  TokenIdInput,
  toPrincipal,
  toToken,
} from '../schemas/access.ts';
import { DeletedResponse } from '../schemas/common.ts';
import { adminProcedure, authedProcedure, router } from '../trpc.ts';

const tags = ['identity'];

export const meRouter = router({
  get: authedProcedure
    .meta({ openapi: { method: 'GET', path: '/me', tags, summary: 'The calling principal' } })
    .input(z.void())
    .output(Me)
    .query(async ({ ctx }) => {
      const p = ctx.principal;
      const row = p.kind === 'agent' ? undefined : await findPrincipal(ctx.db, p.id);
      return {
        id: p.id,
        name: p.name,
        kind: p.kind,
        admin: p.admin,
        can_create_agents: p.can_create_agents,
        created_at: row ? row.created_at.toISOString() : null,
        agent_id: p.agent_id,
      };
    }),
});

export const principalsRouter = router({
  create: adminProcedure
    .meta({ openapi: { method: 'POST', path: '/principals', tags, summary: 'Create a principal and its first token (admin)' } })
    .input(CreatePrincipalInput)
    .output(CreatedPrincipal)
    .mutation(async ({ ctx, input }) => {
      const row = await insertPrincipal(ctx.db, input);
      if (!row) throw conflict(`a principal named '${input.name}' already exists`);
      const { row: token, token: secret } = await issueToken(ctx.db, row.id, 'initial');
      return { ...toPrincipal(row), token: secret, token_id: token.id };
    }),

  list: adminProcedure
    .meta({ openapi: { method: 'GET', path: '/principals', tags, summary: 'List principals (admin)' } })
    .input(z.void())
    .output(z.array(Principal))
    .query(async ({ ctx }) => (await listPrincipals(ctx.db)).map(toPrincipal)),
});

export const tokensRouter = router({
  create: adminProcedure
    .meta({ openapi: { method: 'POST', path: '/principals/{principal_id}/tokens', tags, summary: 'Issue a token (admin); shown once' } })
    .input(CreateTokenInput)
    .output(IssuedToken)
    .mutation(async ({ ctx, input }) => {
      if (!(await findPrincipal(ctx.db, input.principal_id))) throw notFound('Principal', input.principal_id);
      const { row, token } = await issueToken(ctx.db, input.principal_id, input.name ?? null);
      return { ...toToken(row), token };
    }),

  list: authedProcedure
    .meta({ openapi: { method: 'GET', path: '/principals/{principal_id}/tokens', tags, summary: "A principal's live tokens (admin or self); never the secrets" } })
    .input(PrincipalIdInput)
    .output(z.array(Token))
    .query(async ({ ctx, input }) => {
      if (!ctx.principal.admin && ctx.principal.id !== input.principal_id) throw notFound('Principal', input.principal_id);
      return (await listLiveTokens(ctx.db, input.principal_id)).map(toToken);
    }),

  revoke: authedProcedure
    .meta({ openapi: { method: 'DELETE', path: '/tokens/{token_id}', tags, summary: "Revoke a token (admin or the token's owner)" } })
    .input(TokenIdInput)
    .output(DeletedResponse)
    .mutation(async ({ ctx, input }) => {
      const token = await findLiveToken(ctx.db, input.token_id);
      const mine = token?.principal_id === ctx.principal.id && ctx.principal.kind !== 'agent';
      if (!token || !(ctx.principal.admin || mine)) throw notFound('Token', input.token_id);
      await revokeToken(ctx.db, token.id);
      await ctx.auth?.credential(token.id);
      return { id: token.id, message: `Token '${token.id}' revoked` };
    }),
});
