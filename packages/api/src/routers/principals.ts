import {
  CreatePrincipalInput,
  CreatedPrincipal,
  DeletedResponse,
  Principal,
  PrincipalIdInput,
  allPrincipals,
  createPrincipal,
  deletePrincipal,
  setDisabled,
} from "@agentex/core";
import { z } from "zod";
import { adminMutationProcedure, adminProcedure, router } from "../trpc.ts";

const tags = ["identity"];

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
    .mutation(({ ctx, input }) => createPrincipal(ctx, input)),

  list: adminProcedure
    .meta({ openapi: { method: "GET", path: "/principals", tags, summary: "List principals (admin)" } })
    .input(z.void())
    .output(z.array(Principal))
    .query(({ ctx }) => allPrincipals(ctx)),

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
    .mutation(({ ctx, input }) => setDisabled(ctx, input.principal_id, true)),

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
    .mutation(({ ctx, input }) => setDisabled(ctx, input.principal_id, false)),

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
