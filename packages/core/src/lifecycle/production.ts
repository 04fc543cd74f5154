import type { AgentRow, DB, DeploymentRow, PromotionKind, PromotionRow, Transaction } from "@agentex/db";
import { loadAgent } from "../access.ts";
import { notFound, precondition, staleProduction } from "../errors.ts";
import { updateAgent } from "../queries/agents.ts";
import { demoteProduction, findDeployment, markProduction } from "../queries/deployments.ts";
import { dbNow } from "../queries/now.ts";
import { effectiveHistory, insertPromotion, listPromotions, promotionAt } from "../queries/promotions.ts";
import { toDeployment, type Deployment } from "../schemas/deployment.ts";
import {
  toPromotion,
  type ListPromotionsInput,
  type ProductionAt,
  type ProductionAtInput,
  type PromoteInput,
  type PromotionPage,
  type RollbackInput,
  type RollbackResult,
} from "../schemas/promotion.ts";
import { inTransaction, type Actor, type Emit, type Reader } from "./actor.ts";
import { productionChanged } from "./changes.ts";

// Which deployment is an agent's production, and the ledger that records every change of it:
// promote, rollback (popping the ledger), the one cutover both share, and reading the ledger.
// Every change holds the agent's row lock (loadAgent with `lock`), as every deployment writer does.

/** An agent's promotion ledger, newest first, keyset-paged, for readers of the agent. */
export async function promotionLedger(reader: Reader, input: ListPromotionsInput): Promise<PromotionPage> {
  await loadAgent(reader.db, reader.principal, { id: input.agent_id }, "read");
  const { rows, nextCursor } = await listPromotions(reader.db, input.agent_id, input.limit, input.cursor);
  return { items: rows.map(toPromotion), next_cursor: nextCursor };
}

/** What was production at `at` (default now), per the ledger, for readers of the agent. */
export async function productionAt(reader: Reader, input: ProductionAtInput): Promise<ProductionAt> {
  await loadAgent(reader.db, reader.principal, { id: input.agent_id }, "read");
  const at = input.at ? new Date(input.at) : new Date();
  const row = await promotionAt(reader.db, input.agent_id, at);
  return {
    agent_id: input.agent_id,
    at: at.toISOString(),
    deployment_id: row?.to_deployment_id ?? null,
    promotion: row ? toPromotion(row) : null,
  };
}

/**
 * What the caller expects production to be (compare-and-swap): a deployment
 * id, `null` for "no production yet", `undefined` for "do not check".
 */
export type ExpectedProduction = string | null | undefined;

function checkExpected(agent: AgentRow, expected: ExpectedProduction) {
  if (expected !== undefined && expected !== agent.production_deployment_id) {
    throw staleProduction(expected, agent.production_deployment_id);
  }
}

/** Who made a change, as the ledger records it. */
function ledgerActor(actor: Actor) {
  return { actor_kind: actor.principal.kind, actor_id: actor.principal.id, actor_name: actor.principal.name };
}

/**
 * Appends the ledger row of a production change. Called only with the agent
 * row locked, in the transaction that makes the change.
 */
export async function recordProductionChange(
  trx: Transaction<DB>,
  actor: Actor,
  change: {
    agent_id: string;
    from: string | null;
    to: string | null;
    kind: PromotionKind;
    undoes_id?: number | null;
    reason?: string | null;
  },
): Promise<PromotionRow> {
  return insertPromotion(trx, {
    agent_id: change.agent_id,
    from_deployment_id: change.from,
    to_deployment_id: change.to,
    kind: change.kind,
    undoes_id: change.undoes_id ?? null,
    ...ledgerActor(actor),
    reason: change.reason ?? null,
    request_id: actor.requestId,
  });
}

/**
 * The one production cutover, shared by promote and rollback: with the agent
 * row locked (by the caller), the old production deployment is demoted, the
 * target promoted, the agent pointed at it, and the ledger row appended, all in
 * the caller's transaction. The target was checked (exists, this agent's, not
 * deleted, Ready, not already production) by the caller.
 */
async function cutover(
  trx: Transaction<DB>,
  actor: Actor,
  emit: Emit,
  agent: AgentRow,
  target: DeploymentRow,
  ledger: { kind: "promote" | "rollback"; undoes_id?: number | null; reason?: string | null | undefined },
): Promise<{ deployment: DeploymentRow; promotion: PromotionRow }> {
  await demoteProduction(trx, agent.id);
  const promoted = await markProduction(trx, target.id);
  const firstPromotion = agent.status === "BuildOnly";
  const updated = await updateAgent(trx, agent.id, {
    production_deployment_id: promoted.id,
    acp_url: promoted.acp_url,
    ...(firstPromotion ? { status: "Ready", status_reason: null, registered_at: dbNow() } : {}),
  });
  const promotion = await recordProductionChange(trx, actor, {
    agent_id: agent.id,
    from: agent.production_deployment_id,
    to: promoted.id,
    kind: ledger.kind,
    undoes_id: ledger.undoes_id ?? null,
    reason: ledger.reason ?? null,
  });
  emit(
    "promotion",
    productionChanged(agent.id, {
      from: agent.production_deployment_id,
      to: promoted.id,
      acp_url: updated.acp_url,
      status: updated.status,
      cause: ledger.kind,
    }),
  );
  return { deployment: promoted, promotion };
}

/** A deployment of the agent that may become production, or the 404/412 that says why not. */
async function promotable(
  trx: Transaction<DB>,
  agentId: string,
  deploymentId: string,
): Promise<DeploymentRow> {
  const deployment = await findDeployment(trx, agentId, deploymentId);
  if (!deployment) throw notFound("Deployment", deploymentId);
  if (deployment.expires_at)
    throw precondition(`deployment '${deploymentId}' was deleted and cannot be promoted`);
  if (deployment.status !== "Ready") {
    throw precondition(
      `deployment '${deploymentId}' is ${deployment.status}; only a Ready deployment can be promoted`,
    );
  }
  return deployment;
}

/**
 * Atomic cutover: in one transaction with the agent row locked, the old
 * production deployment is demoted, the target promoted, the agent pointed
 * at it, and a ledger row appended. Promoting the current production
 * deployment again changes nothing (and writes no ledger row).
 */
export async function promote(actor: Actor, input: PromoteInput): Promise<Deployment> {
  const { agent_id: agentId, deployment_id: deploymentId } = input;
  const promoted = await inTransaction(actor, async (trx, emit) => {
    const agent = await loadAgent(trx, actor.principal, { id: agentId }, "deploy", { lock: true });
    checkExpected(agent, input.expected_current_deployment_id);
    const deployment = await findDeployment(trx, agentId, deploymentId);
    if (!deployment) throw notFound("Deployment", deploymentId);
    if (
      !deployment.expires_at &&
      deployment.is_production &&
      agent.production_deployment_id === deployment.id
    )
      return deployment;
    const target = await promotable(trx, agentId, deploymentId);
    return (await cutover(trx, actor, emit, agent, target, { kind: "promote", reason: input.reason }))
      .deployment;
  });
  return toDeployment(promoted);
}

/**
 * Promotes the previous production deployment, per the ledger.
 *
 * The history is a stack: each promote (or legacy clear) pushes, each rollback
 * pops. "Previous" is the `from` of the newest row not yet undone, so rollback
 * after rollback keeps walking back (C → B → A), and a promote after a
 * rollback starts a new branch. With `to_deployment_id`, the stack is popped
 * back to the newest still-effective row that made that deployment production.
 */
export async function rollbackProduction(actor: Actor, input: RollbackInput): Promise<RollbackResult> {
  const agentId = input.agent_id;
  const { deployment, promotion } = await inTransaction(actor, async (trx, emit) => {
    const agent = await loadAgent(trx, actor.principal, { id: agentId }, "deploy", { lock: true });
    checkExpected(agent, input.expected_current_deployment_id);
    const history = await effectiveHistory(trx, agentId);
    const top = history[0];
    if (!top || top.to_deployment_id !== agent.production_deployment_id) {
      throw precondition(
        `agent '${agentId}' has no earlier production deployment in its promotion ledger to roll back to`,
      );
    }
    let targetId: string | null;
    let undoes: number;
    if (input.to_deployment_id === undefined) {
      targetId = top.from_deployment_id;
      undoes = top.id;
    } else {
      const index = history.findIndex((row) => row.to_deployment_id === input.to_deployment_id);
      if (index === 0) {
        const current = await findDeployment(trx, agentId, input.to_deployment_id);
        if (current) return { deployment: current, promotion: null };
      }
      if (index < 0) {
        throw precondition(
          `deployment '${input.to_deployment_id}' is not an earlier production deployment of agent '${agentId}' ` +
            "(per its promotion ledger); promote it instead",
        );
      }
      targetId = input.to_deployment_id;
      undoes = history[index - 1]!.id;
    }
    if (targetId === null) {
      throw precondition(
        `agent '${agentId}' had no production deployment before; there is nothing to roll back to`,
      );
    }
    const target = await findDeployment(trx, agentId, targetId);
    if (!target) throw precondition(`rollback target deployment '${targetId}' no longer exists`);
    if (target.expires_at)
      throw precondition(`rollback target deployment '${targetId}' was deleted and cannot be promoted`);
    if (target.status !== "Ready") {
      throw precondition(
        `rollback target deployment '${targetId}' is ${target.status}; only a Ready deployment can be promoted`,
      );
    }
    return cutover(trx, actor, emit, agent, target, {
      kind: "rollback",
      undoes_id: undoes,
      reason: input.reason,
    });
  });
  return { deployment: toDeployment(deployment), promotion: promotion ? toPromotion(promotion) : null };
}
