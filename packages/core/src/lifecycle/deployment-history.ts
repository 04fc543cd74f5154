import type { DB, DeploymentHistoryRow, Transaction } from "@agentex/db";
import { agentRef, loadAgent, type AgentRefInput } from "../access.ts";
import { DomainError } from "../errors.ts";
import {
  findHistory,
  insertHistory,
  lastHistoryCommit,
  listHistory,
  type HistoryPage,
} from "../queries/deployment-history.ts";
import { dbNow } from "../queries/now.ts";
import type { Actor } from "./actor.ts";

function field(metadata: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = metadata[key];
    if (typeof value === "string" && value.length > 0 && value.length <= 1024) return value;
  }
  return undefined;
}

/**
 * Records a deployment-history row from the build metadata a register carries
 * (Agentex): needs a commit (`commit_hash`, or Agentex's `agent_commit`) and a
 * `branch_name`; author fields default to "N/A", `build_timestamp` to now.
 * Skipped when the agent's latest record is already this commit, so the many
 * pods of one rollout registering at once add one row. The caller holds the
 * agent's row lock, which serialises that check.
 */
export async function recordDeploymentHistory(
  trx: Transaction<DB>,
  agentId: string,
  metadata: Record<string, unknown> | null | undefined,
  deploymentId: string | null,
): Promise<boolean> {
  if (!metadata) return false;
  const commit = field(metadata, "commit_hash", "agent_commit");
  const branch = field(metadata, "branch_name");
  if (!commit || !branch) return false;
  if ((await lastHistoryCommit(trx, agentId)) === commit) return false;
  const built = field(metadata, "build_timestamp");
  const builtAt = built && !Number.isNaN(Date.parse(built)) ? new Date(built) : null;
  await insertHistory(trx, {
    agent_id: agentId,
    deployment_id: deploymentId,
    author_name: field(metadata, "author_name") ?? "N/A",
    author_email: field(metadata, "author_email") ?? "N/A",
    branch_name: branch,
    commit_hash: commit,
    build_timestamp: builtAt ?? dbNow(),
    deployment_timestamp: dbNow(),
  });
  return true;
}

/** An agent's deployment history, for readers of the agent. */
export async function agentHistory(
  actor: Actor,
  input: AgentRefInput & HistoryPage,
): Promise<DeploymentHistoryRow[]> {
  const agent = await loadAgent(
    actor.db,
    actor.principal,
    agentRef(input, "list deployment history"),
    "read",
  );
  return listHistory(actor.db, agent.id, input);
}

/** One history record, for readers of its agent; anyone else is told it does not exist. */
export async function historyRecord(actor: Actor, id: string): Promise<DeploymentHistoryRow> {
  const missing = () =>
    new DomainError("not_found", `Deployment not found: deployment history record '${id}' not found`);
  const row = await findHistory(actor.db, id);
  if (!row) throw missing();
  await loadAgent(actor.db, actor.principal, { id: row.agent_id }, "read", { notFound: missing });
  return row;
}
