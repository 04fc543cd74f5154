import { z } from "zod";
import { conflict, notFound } from "../errors.ts";
import {
  findLiveToken,
  findPrincipal,
  insertPrincipal,
  issueToken,
  listLiveTokens,
  listPrincipals,
  revokeToken,
} from "../queries/principals.ts";
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
  tokenExpiry,
} from "../schemas/access.ts";
import { createToken, deletePrincipal, setDisabled } from "../lifecycle/principals.ts";
import { DeletedResponse } from "../schemas/common.ts";
import {
  adminMutationProcedure,
  adminProcedure,
  authedProcedure,
  mutationProcedure,
  router,
} from "../trpc.ts";

const tags = ["identity"];

export const meRouter = router({
  get: authedProcedure
    .meta({ openapi: { method: "GET", path: "/me", tags, summary: "The calling principal" } })
    .input(z.void())
    .output(Me)
    .query(async ({ ctx }) => {
      const p = ctx.principal;
      const row = p.kind === "agent" ? undefined : await findPrincipal(ctx.db, p.id);
      return {
        id: p.id,
        name: p.name,
        kind: p.kind,
        admin: p.admin,
        can_create_agents: p.can_create_agents,
        created_at: row ? row.created_at.toISOString() : null,
        disabled_at: null, // a disabled principal cannot authenticate
        agent_id: p.agent_id,
      };
    }),
});

export const principalsRouter = router({
  create: adminMutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/principals",
        tags,
        summary: "Create a principal and its first token (admin)",
      },
    })
    .input(CreatePrincipalInput)
    .output(CreatedPrincipal)
    .mutation(async ({ ctx, input }) => {
      const row = await insertPrincipal(ctx.db, input);
      if (!row) throw conflict(`a principal named '${input.name}' already exists`);
      const { row: token, token: secret } = await issueToken(ctx.db, row.id, "initial");
      return { ...toPrincipal(row), token: secret, token_id: token.id };
    }),

  list: adminProcedure
    .meta({ openapi: { method: "GET", path: "/principals", tags, summary: "List principals (admin)" } })
    .input(z.void())
    .output(z.array(Principal))
    .query(async ({ ctx }) => (await listPrincipals(ctx.db)).map(toPrincipal)),

  disable: adminMutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/principals/{principal_id}/disable",
        tags,
        summary: "Disable a principal (admin): all its tokens stop at once",
      },
    })
    .input(PrincipalIdInput)
    .output(Principal)
    .mutation(async ({ ctx, input }) => toPrincipal(await setDisabled(ctx, input.principal_id, true))),

  enable: adminMutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/principals/{principal_id}/enable",
        tags,
        summary: "Re-enable a disabled principal (admin): its live tokens work again",
      },
    })
    .input(PrincipalIdInput)
    .output(Principal)
    .mutation(async ({ ctx, input }) => toPrincipal(await setDisabled(ctx, input.principal_id, false))),

  delete: adminMutationProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/principals/{principal_id}",
        tags,
        summary:
          "Delete a principal (admin): revokes its tokens and removes its grants; 409 if it is the last owner of an agent",
      },
    })
    .input(PrincipalIdInput)
    .output(DeletedResponse)
    .mutation(({ ctx, input }) => deletePrincipal(ctx, input.principal_id)),
});

export const tokensRouter = router({
  create: adminMutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/principals/{principal_id}/tokens",
        tags,
        summary: "Issue a token (admin); shown once",
      },
    })
    .input(CreateTokenInput)
    .output(IssuedToken)
    .mutation(async ({ ctx, input }) => {
      const { row, token } = await createToken(ctx, {
        principal_id: input.principal_id,
        name: input.name,
        expiresAt: tokenExpiry(input),
      });
      return { ...toToken(row), token };
    }),

  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/principals/{principal_id}/tokens",
        tags,
        summary: "A principal's live tokens (admin or self); never the secrets",
      },
    })
    .input(PrincipalIdInput)
    .output(z.array(Token))
    .query(async ({ ctx, input }) => {
      if (!ctx.principal.admin && ctx.principal.id !== input.principal_id)
        throw notFound("Principal", input.principal_id);
      return (await listLiveTokens(ctx.db, input.principal_id)).map(toToken);
    }),

  revoke: mutationProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/tokens/{token_id}",
        tags,
        summary: "Revoke a token (admin or the token's owner)",
      },
    })
    .input(TokenIdInput)
    .output(DeletedResponse)
    .mutation(async ({ ctx, input }) => {
      const token = await findLiveToken(ctx.db, input.token_id);
      const mine = token?.principal_id === ctx.principal.id && ctx.principal.kind !== "agent";
      if (!token || !(ctx.principal.admin || mine)) throw notFound("Token", input.token_id);
      await revokeToken(ctx.db, token.id);
      await ctx.auth?.credential(token.id);
      return { id: token.id, message: `Token '${token.id}' revoked` };
    }),
});
