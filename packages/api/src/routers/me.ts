import { z } from "zod";
import { callerPrincipal } from "../lifecycle/principals.ts";
import { Me, toMe } from "../schemas/access.ts";
import { authedProcedure, router } from "../trpc.ts";

const tags = ["identity"];

export const meRouter = router({
  get: authedProcedure
    .meta({ openapi: { method: "GET", path: "/me", tags, summary: "The calling principal" } })
    .input(z.void())
    .output(Me)
    .query(async ({ ctx }) => toMe(ctx.principal, await callerPrincipal(ctx))),
});
