/**
 * Changing production and reading its ledger: `deployments promote`, `rollback`
 * and `promotions`. Both changes take the same compare-and-swap, reason and
 * idempotency options.
 */
import {
  UUID,
  UsageError,
  agentIdArg,
  deploymentRef,
  int,
  onAgent,
  str,
  type Command,
  type OptionSpec,
  type RunContext,
} from "../command.ts";
import { DEPLOYMENT_KEYS, PROMOTION_COLUMNS, PROMOTION_KEYS, record, table } from "../format.ts";
import { deploymentOut } from "./deployments.ts";

/** `--expect <id|none>`: the compare-and-swap expectation; `none` means "no production deployment yet". */
function expected(values: RunContext["values"]): string | null | undefined {
  const v = str(values, "expect");
  if (v === undefined) return undefined;
  if (v === "none") return null;
  if (!UUID.test(v)) throw new UsageError(`--expect must be a deployment id or 'none', got '${v}'`);
  return v;
}

const expectOption: OptionSpec = {
  type: "string",
  value: "<id|none>",
  description:
    "only if production is this deployment ('none': no production yet); else exit 3 (409 PRODUCTION_CHANGED)",
};
const reasonOption: OptionSpec = {
  type: "string",
  value: "<text>",
  description: "why; kept in the promotion ledger",
};
const idempotencyOption: OptionSpec = {
  type: "string",
  value: "<key>",
  description: "retry safely: the same key replays the first answer instead of acting twice",
};

export const deploymentsPromote: Command = {
  name: "deployments promote",
  summary: "Promote a Ready deployment to production (atomic cutover)",
  ...onAgent(
    ["<deployment-id>"],
    "The deployment must be Ready (registered); otherwise exit code 3.\n" +
      "With --expect, production must still be what you reviewed (compare-and-swap); otherwise exit code 3\n" +
      "and the current production deployment is printed.",
  ),
  options: { expect: expectOption, reason: reasonOption, "idempotency-key": idempotencyOption },
  async run(ctx) {
    const expectation = expected(ctx.values); // a bad --expect is a usage error before any call
    return deploymentOut(
      await ctx.client.deployments.promote.mutate({
        ...(await deploymentRef(ctx)),
        expected_current_deployment_id: expectation,
        reason: str(ctx.values, "reason"),
        idempotency_key: str(ctx.values, "idempotency-key"),
      }),
    );
  },
};

export const promotions: Command = {
  name: "promotions",
  summary: "An agent's promotion ledger, newest first: who changed production, when and why",
  ...onAgent([], "Kinds: promote, rollback, cleared (a legacy register cleared production)."),
  options: {
    limit: { type: "string", value: "<n>", description: "rows per page, 1-1000 (default 50)" },
    cursor: { type: "string", value: "<cursor>", description: "next_cursor of the previous page" },
    at: { type: "string", value: "<iso-time>", description: "instead: what was production at that time" },
  },
  async run(ctx) {
    const id = await agentIdArg(ctx);
    const at = str(ctx.values, "at");
    if (at !== undefined) {
      const answer = await ctx.client.promotions.productionAt.query({ agent_id: id, at });
      const human = record({
        at: answer.at,
        deployment_id: answer.deployment_id,
        ledger_row: answer.promotion?.id ?? null,
      });
      return { json: answer, human };
    }
    const page = await ctx.client.promotions.list.query({
      agent_id: id,
      limit: int(ctx.values, "limit"),
      cursor: str(ctx.values, "cursor"),
    });
    const human =
      table(page.items, PROMOTION_COLUMNS, "(no production changes yet)") +
      (page.next_cursor ? `more: --cursor ${page.next_cursor}\n` : "");
    return { json: page, human };
  },
};

export const rollback: Command = {
  name: "rollback",
  summary: "Promote the previous production deployment (per the ledger); again walks further back",
  ...onAgent(
    [],
    "The target must still be Ready and not deleted; otherwise exit code 3 (412) naming it.\n" +
      "--to rolls back to a given earlier production deployment instead.",
  ),
  options: {
    to: {
      type: "string",
      value: "<deployment-id>",
      description: "an earlier production deployment to return to",
    },
    reason: reasonOption,
    expect: expectOption,
    "idempotency-key": idempotencyOption,
  },
  async run(ctx) {
    const expectation = expected(ctx.values);
    const result = await ctx.client.promotions.rollback.mutate({
      agent_id: await agentIdArg(ctx),
      to_deployment_id: str(ctx.values, "to"),
      reason: str(ctx.values, "reason"),
      expected_current_deployment_id: expectation,
      idempotency_key: str(ctx.values, "idempotency-key"),
    });
    const human =
      record(result.deployment, DEPLOYMENT_KEYS) +
      (result.promotion ? `\n${record(result.promotion, PROMOTION_KEYS)}` : "");
    return { json: result, human };
  },
};
