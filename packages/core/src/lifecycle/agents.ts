import { actorId } from "../auth.ts";
import {
  allowedActions,
  checkAccess,
  findAgentAccess,
  loadAgent,
  refText,
  type AgentRef,
} from "../access.ts";
import { deriveAgentKey } from "../crypto.ts";
import {
  countAgentsByStatus,
  listAgentsByCursor,
  listAgentsByOffset,
  markAgentDeleted,
} from "../queries/agents.ts";
import { grantHolders } from "../queries/events.ts";
import { deleteAllGrants } from "../queries/grants.ts";
import { ensureInternalKey, findLiveInternalKey, revokeKeys } from "../queries/keys.ts";
import { toAgentApiKey, type RotatedAgentKey } from "../schemas/api-keys.ts";
import {
  toAgent,
  type Agent,
  type AgentCounts,
  type AgentPage,
  type AgentPermissions,
  type ListAgentsInput,
  type ListAgentsPageInput,
} from "../schemas/agent.ts";
import type { DeletedResponse } from "../schemas/common.ts";
import { pageOf } from "../schemas/paging.ts";
import { inTransaction, invalidateAfterCommit, type Actor, type ListReader, type Reader } from "./actor.ts";
import { agentChange } from "./changes.ts";

// An agent as a whole: reading it (one, a page, counts, the caller's permissions), rotating its
// internal key, deleting it. Registration is in registration.ts, naming rules in agent-names.ts.

/** One live agent the caller may read; anyone else is told it does not exist. */
export async function getAgent(reader: Reader, ref: AgentRef): Promise<Agent> {
  return toAgent(await loadAgent(reader.db, reader.principal, ref, "read"));
}

/**
 * Agentex's list (a bare array): the live agents the caller may read, by
 * offset page or cursor (one rule: `pageOf`); the next page's cursor goes to
 * the host for the response headers.
 */
export async function listAgents(reader: ListReader, input: ListAgentsInput): Promise<Agent[]> {
  const start = pageOf(input);
  if (input.status === "Deleted") return [];
  const q = {
    orderBy: input.order_by,
    direction: input.order_direction,
    status: input.status,
    limit: input.limit,
  };
  const { rows, nextCursor } =
    "cursor" in start
      ? await listAgentsByCursor(reader.db, reader.principal, { ...q, cursor: start.cursor })
      : await listAgentsByOffset(reader.db, reader.principal, { ...q, offset: start.offset });
  if (nextCursor) reader.onNextCursor?.(nextCursor);
  return rows.map(toAgent);
}

/** Keyset pages of the agents the caller may read, optionally searched by name (the console's list). */
export async function agentPage(reader: Reader, input: ListAgentsPageInput): Promise<AgentPage> {
  if (input.status === "Deleted") return { items: [], next_cursor: null };
  const { rows, nextCursor } = await listAgentsByCursor(reader.db, reader.principal, {
    orderBy: input.order_by,
    direction: input.order_direction,
    status: input.status,
    limit: input.limit,
    cursor: input.cursor,
    search: input.search,
  });
  return { items: rows.map(toAgent), next_cursor: nextCursor };
}

/** Live agents the caller may read, per status (the console's filter counts). */
export async function agentCounts(reader: Reader): Promise<AgentCounts> {
  const by_status = { BuildOnly: 0, Ready: 0, Unhealthy: 0, Failed: 0, Unknown: 0 };
  let total = 0;
  for (const row of await countAgentsByStatus(reader.db, reader.principal)) {
    if (row.status === "Deleted") continue;
    by_status[row.status] = row.count;
    total += row.count;
  }
  return { total, by_status };
}

/** The caller's effective role on an agent it may read, and the actions that role allows. */
export async function agentPermissions(reader: Reader, agentId: string): Promise<AgentPermissions> {
  const found = await findAgentAccess(reader.db, reader.principal, { id: agentId });
  const { agent, role } = checkAccess(found, "read", agentId);
  return {
    agent_id: agent.id,
    role: reader.principal.admin ? "admin" : role,
    actions: allowedActions(role),
  };
}

/**
 * Owner action: revokes the agent's internal key and mints a new one, in the
 * agent's row lock. The old key stops at once; pods get the new one at their
 * next register.
 */
export async function rotateInternalKey(actor: Actor, agentId: string): Promise<RotatedAgentKey> {
  return inTransaction(actor, async (trx) => {
    const agent = await loadAgent(trx, actor.principal, { id: agentId }, "own", { lock: true });
    await revokeKeys(trx, { agentId: agent.id, type: "internal" });
    await invalidateAfterCommit(trx, actor, "agent", agent.id);
    await ensureInternalKey(trx, actor.secretKey, agent.id, actorId(actor.principal));
    const row = await findLiveInternalKey(trx, agent.id);
    if (!row) throw new Error("internal key vanished after minting");
    return { ...toAgentApiKey(row), agent_api_key: deriveAgentKey(actor.secretKey, row.id) };
  });
}

/** Soft delete: the row stays for history; the name, grants and keys are released at once. */
export async function deleteAgent(actor: Actor, by: AgentRef): Promise<DeletedResponse> {
  return inTransaction(actor, async (trx, emit) => {
    const agent = await loadAgent(trx, actor.principal, by, "own", { lock: true });
    // Its readers are taken before its grants go, so they still see it leave.
    const readers = await grantHolders(trx, agent.id);
    await markAgentDeleted(trx, agent.id);
    await deleteAllGrants(trx, agent.id);
    await revokeKeys(trx, { agentId: agent.id });
    await invalidateAfterCommit(trx, actor, "agent", agent.id);
    emit(
      "agent_deleted",
      agentChange("agent.deleted", { ...agent, status: "Deleted", status_reason: "Deleted" }, readers),
    );
    return { id: agent.id, message: `Agent '${refText(by)}' deleted successfully` };
  });
}
