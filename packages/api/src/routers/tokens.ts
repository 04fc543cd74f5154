import {
  CreateTokenInput,
  DeletedResponse,
  IssuedToken,
  PrincipalIdInput,
  Token,
  TokenIdInput,
  createToken,
  listTokens,
  revokeToken,
  toToken,
  tokenExpiry,
} from "@agentex/core";
import { z } from "zod";
import { adminMutationProcedure, authedProcedure, mutationProcedure, router } from "../trpc.ts";

const tags = ["identity"];

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
    .query(async ({ ctx, input }) => (await listTokens(ctx, input.principal_id)).map(toToken)),

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
    .mutation(({ ctx, input }) => revokeToken(ctx, input.token_id)),
});
