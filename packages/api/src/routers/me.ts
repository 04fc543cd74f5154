import { Me, callerPrincipal, toMe } from "@agentex/core";
import { z } from "zod";
import { authedProcedure, router } from "../trpc.ts";

const tags = ["identity"];

export const meRouter = router({
  get: authedProcedure
    .meta({ openapi: { method: "GET", path: "/me", tags, summary: "The calling principal" } })
    .input(z.void())
    .output(Me)
    .query(async ({ ctx }) => toMe(ctx.principal, await callerPrincipal(ctx))),
});
