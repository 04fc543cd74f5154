import {
  ListPromotionsInput,
  ProductionAt,
  ProductionAtInput,
  PromotionPage,
  RollbackInput,
  RollbackResult,
  listPromotions,
  loadAgent,
  promotionAt,
  rollback,
  toDeployment,
  toPromotion,
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
    .query(async ({ ctx, input }) => {
      await loadAgent(ctx.db, ctx.principal, { id: input.agent_id }, "read");
      const { rows, nextCursor } = await listPromotions(ctx.db, input.agent_id, input.limit, input.cursor);
      return { items: rows.map(toPromotion), next_cursor: nextCursor };
    }),

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
    .query(async ({ ctx, input }) => {
      await loadAgent(ctx.db, ctx.principal, { id: input.agent_id }, "read");
      const at = input.at ? new Date(input.at) : new Date();
      const row = await promotionAt(ctx.db, input.agent_id, at);
      return {
        agent_id: input.agent_id,
        at: at.toISOString(),
        deployment_id: row?.to_deployment_id ?? null,
        promotion: row ? toPromotion(row) : null,
      };
    }),

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
    .mutation(async ({ ctx, input }) => {
      const { deployment, promotion } = await rollback(ctx, input.agent_id, {
        to_deployment_id: input.to_deployment_id,
        reason: input.reason,
        expected_current_deployment_id: input.expected_current_deployment_id,
      });
      return { deployment: toDeployment(deployment), promotion: promotion ? toPromotion(promotion) : null };
    }),
});
