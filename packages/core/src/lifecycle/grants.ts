import type { GrantRow } from "@agentex/db";
import { loadAgent } from "../access.ts";
import { actorId } from "../auth.ts";
import { conflict, notFound } from "../errors.ts";
import { countOwners, deleteGrant, findGrant, listGrants, putGrant } from "../queries/grants.ts";
import { lockLivePrincipal } from "../queries/principals.ts";
import type { GrantRef, SetGrantInput } from "../schemas/grants.ts";
import type { DeletedResponse } from "../schemas/common.ts";
import { inTransaction, type Actor } from "./actor.ts";

const LAST_OWNER = "an agent must keep at least one owner; make someone else owner first";

/** Who may do what on an agent: for its owners (and admins) only. */
export async function agentGrants(actor: Actor, agentId: string): Promise<GrantRow[]> {
  const agent = await loadAgent(actor.db, actor.principal, { id: agentId }, "own");
  return listGrants(actor.db, agent.id);
}

/**
 * Grants or changes a role, under the agent's row lock so two owners demoting
 * each other cannot leave the agent without one: the last owner stays (409).
 */
export async function setGrant(actor: Actor, input: SetGrantInput): Promise<GrantRow> {
  return inTransaction(actor, async (trx) => {
    const agent = await loadAgent(trx, actor.principal, { id: input.agent_id }, "own", { lock: true });
    // Share-locked: a principal being deleted cannot receive a grant that would outlive it.
    const grantee = await lockLivePrincipal(trx, input.principal_id, "share");
    if (!grantee) throw notFound("Principal", input.principal_id);
    const current = await findGrant(trx, agent.id, grantee.id);
    if (current?.role === "owner" && input.role !== "owner" && (await countOwners(trx, agent.id)) <= 1) {
      throw conflict(LAST_OWNER);
    }
    return putGrant(trx, {
      agent_id: agent.id,
      principal_id: grantee.id,
      role: input.role,
      granted_by: actorId(actor.principal),
    });
  });
}

/** Revokes a role under the agent's row lock; the last owner's cannot go (409). */
export async function revokeGrant(actor: Actor, input: GrantRef): Promise<DeletedResponse> {
  return inTransaction(actor, async (trx) => {
    const agent = await loadAgent(trx, actor.principal, { id: input.agent_id }, "own", { lock: true });
    const current = await findGrant(trx, agent.id, input.principal_id);
    if (!current) throw notFound("Grant", input.principal_id);
    if (current.role === "owner" && (await countOwners(trx, agent.id)) <= 1) throw conflict(LAST_OWNER);
    await deleteGrant(trx, agent.id, input.principal_id);
    return {
      id: input.principal_id,
      message: `Grant of '${input.principal_id}' on agent '${input.agent_id}' revoked`,
    };
  });
}
