import type { AgentRow, DB, Transaction } from "@agentex/db";
import { canCreateAgents, type EffectiveRole } from "../access.ts";
import { actorId } from "../auth.ts";
import { conflict, forbidden } from "../errors.ts";
import { insertAgentIfNameFree, recordRename, updateAgent } from "../queries/agents.ts";
import { putGrant } from "../queries/grants.ts";
import type { Actor, Emit } from "./actor.ts";
import { agentChange } from "./changes.ts";

// Who may take, hold and change an agent's name. A live name belongs to one agent; what a caller
// learns about a name it cannot read is never more than creating the agent would have told it.

export function nameTaken(name: string) {
  // Says nothing about the agent that holds the name: the caller may not read it.
  return conflict(`the name '${name}' is held by an agent you do not have access to`);
}

export function requireCreate(actor: Actor) {
  if (!canCreateAgents(actor.principal))
    throw forbidden("creating agents needs the create permission on agents");
}

/**
 * A name held by an agent the caller cannot read. A caller who could not have
 * created the agent anyway gets exactly the answer a free name gets (403), so
 * the difference between the two reveals nothing; a creator learns only that
 * the name is taken (409), which creating it would have told them too.
 */
export function unreadableName(actor: Actor, name: string): never {
  requireCreate(actor);
  throw nameTaken(name);
}

/** Inserts a new agent and makes the caller its owner, in the caller's transaction. */
export async function createOwned(
  trx: Transaction<DB>,
  actor: Actor,
  emit: Emit,
  values: Parameters<typeof insertAgentIfNameFree>[1],
): Promise<AgentRow | undefined> {
  const inserted = await insertAgentIfNameFree(trx, { ...values, created_by: actorId(actor.principal) });
  if (inserted) {
    await putGrant(trx, {
      agent_id: inserted.id,
      principal_id: actor.principal.id,
      role: "owner",
      granted_by: actorId(actor.principal),
    });
    emit("agent_created", agentChange("agent.created", inserted, [actor.principal.id]));
  }
  return inserted;
}

/**
 * Renaming frees the old name for anyone to take, so it is an owner action,
 * recorded (who, when, from, to) in `agent_renames` and in the log. Anyone
 * else naming the agent differently gets a 409 and nothing changes.
 */
export async function renameAgent(
  trx: Transaction<DB>,
  actor: Actor,
  agent: AgentRow,
  role: EffectiveRole,
  name: string,
): Promise<AgentRow> {
  if (role !== "owner") {
    throw conflict(
      `agent '${agent.id}' is named '${agent.name}': only an owner may rename it; register with its current name`,
    );
  }
  const renamed = await updateAgent(trx, agent.id, { name });
  await recordRename(trx, {
    agent_id: agent.id,
    old_name: agent.name,
    new_name: name,
    renamed_by: actorId(actor.principal),
  });
  actor.log?.info(
    { agent_id: agent.id, old_name: agent.name, new_name: name, renamed_by: actor.principal.id },
    "agent renamed",
  );
  return renamed;
}
