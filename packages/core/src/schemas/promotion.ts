import { PROMOTION_KINDS, type PromotionRow } from "@agentex/db";
import { z } from "zod";
import { Cursor, IsoTimestamp, Uuid, iso, text } from "./common.ts";
import { Deployment, DeploymentRef } from "./deployment.ts";
import { MAX_PAGE_SIZE } from "./paging.ts";

export const PromotionKind = z.enum(PROMOTION_KINDS).meta({ id: "PromotionKind" });

/** `null` means "no production deployment yet"; leaving the field out skips the check. */
export const ExpectedCurrent = Uuid.nullable()
  .optional()
  .describe(
    "Compare-and-swap: act only if production is this deployment (null: only if there is none). " +
      "Otherwise 409 PRODUCTION_CHANGED with current_deployment_id.",
  );

export const Reason = text(1000).nullish().describe("Why; kept in the promotion ledger.");

export const Promotion = z
  .object({
    id: z.number().int().describe("Ledger position; increases with every production change"),
    agent_id: Uuid,
    from_deployment_id: Uuid.nullable(),
    to_deployment_id: Uuid.nullable(),
    kind: PromotionKind,
    undoes_id: z
      .number()
      .int()
      .nullable()
      .describe("For a rollback: it undid every still-effective row from this id on"),
    actor: z.object({
      kind: z.string().describe("user, service_account, or agent (an agent key)"),
      id: Uuid,
      name: z.string(),
    }),
    reason: z.string().nullable(),
    request_id: z.string(),
    at: IsoTimestamp,
  })
  .meta({ id: "Promotion" });
export type Promotion = z.infer<typeof Promotion>;

export function toPromotion(row: PromotionRow): Promotion {
  return {
    id: row.id,
    agent_id: row.agent_id,
    from_deployment_id: row.from_deployment_id,
    to_deployment_id: row.to_deployment_id,
    kind: row.kind,
    undoes_id: row.undoes_id,
    actor: { kind: row.actor_kind, id: row.actor_id, name: row.actor_name },
    reason: row.reason,
    request_id: row.request_id,
    at: iso(row.at),
  };
}

export const PromoteInput = DeploymentRef.extend({
  reason: Reason,
  expected_current_deployment_id: ExpectedCurrent,
});
export type PromoteInput = z.infer<typeof PromoteInput>;

export const RollbackInput = z.object({
  agent_id: Uuid,
  to_deployment_id: Uuid.optional().describe(
    "Roll back to this earlier production deployment; default: the previous one",
  ),
  reason: Reason,
  expected_current_deployment_id: ExpectedCurrent,
});
export type RollbackInput = z.infer<typeof RollbackInput>;

export const RollbackResult = z
  .object({
    deployment: Deployment,
    promotion: Promotion.nullable().describe(
      "The ledger row of this rollback; null if the target already was production",
    ),
  })
  .meta({ id: "RollbackResult" });
export type RollbackResult = z.infer<typeof RollbackResult>;

export const ListPromotionsInput = z.object({
  agent_id: Uuid,
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  cursor: Cursor.nullish(),
});
export type ListPromotionsInput = z.infer<typeof ListPromotionsInput>;

export const PromotionPage = z
  .object({ items: z.array(Promotion), next_cursor: z.string().nullable() })
  .meta({ id: "PromotionPage" });
export type PromotionPage = z.infer<typeof PromotionPage>;

export const ProductionAtInput = z.object({
  agent_id: Uuid,
  at: IsoTimestamp.optional().describe("ISO-8601 timestamp; default: now"),
});
export type ProductionAtInput = z.infer<typeof ProductionAtInput>;

export const ProductionAt = z
  .object({
    agent_id: Uuid,
    at: IsoTimestamp,
    deployment_id: Uuid.nullable().describe("Production at that time; null if none (per the ledger)"),
    promotion: Promotion.nullable().describe(
      "The ledger row that made it so; null if the ledger has none by then",
    ),
  })
  .meta({ id: "ProductionAt" });
export type ProductionAt = z.infer<typeof ProductionAt>;
