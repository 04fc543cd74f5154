import {
  ListPromotionsInput,
  ProductionAt,
  ProductionAtInput,
  PromotionPage,
  RollbackInput,
  RollbackResult,
  productionAt,
  promotionLedger,
  rollbackProduction,
} from "@agentex/core";
import { authedProcedure, mutationProcedure, router } from "../trpc.ts";

const tags = ["promotions"];

export const promotionsRouter = router({
  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agents/{agent_id}/promotions",
        tags,
        summary: "An agent's promotion ledger, newest first",
        description:
          "Every change of production (promote, rollback, cleared by a legacy register), keyset-paged: " +
          "pass `next_cursor` back as `cursor` for the next page.",
      },
    })
    .input(ListPromotionsInput)
    .output(PromotionPage)
    .query(({ ctx, input }) => promotionLedger(ctx, input)),

  productionAt: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/agents/{agent_id}/production",
        tags,
        summary: "What was production at a time (default now), per the ledger",
      },
    })
    .input(ProductionAtInput)
    .output(ProductionAt)
    .query(({ ctx, input }) => productionAt(ctx, input)),

  rollback: mutationProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/agents/{agent_id}/rollback",
        tags,
        summary: "Promote the previous production deployment (per the ledger) in one transaction",
        description:
          "Default target: the deployment that was production before the newest promote not yet undone, so " +
          "rollback after rollback walks back the history. The target must still be Ready and not deleted (412).",
      },
    })
    .input(RollbackInput)
    .output(RollbackResult)
    .mutation(({ ctx, input }) => rollbackProduction(ctx, input)),
});
