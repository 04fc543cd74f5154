import type { PrincipalRow } from "@agentex/db";
import { conflict, forbidden, notFound } from "../errors.ts";
import {
  findPrincipal,
  insertPrincipal,
  listPrincipals,
  lockLivePrincipal,
  lockOwnedAgents,
  markPrincipalDeleted,
  setPrincipalDisabled,
} from "../queries/principals.ts";
import { issueToken } from "../queries/tokens.ts";
import {
  toPrincipal,
  type CreatePrincipalInput,
  type CreatedPrincipal,
  type Principal,
} from "../schemas/principals.ts";
import { inTransaction, invalidateAfterCommit, type Actor, type Reader } from "./actor.ts";

export function requireAdmin(actor: Pick<Reader, "principal">) {
  if (!actor.principal.admin) throw forbidden("only an admin may do this");
}

function notSelf(actor: Actor, id: string, what: string) {
  // An admin locking themselves out would need another admin (or a restart with a new bootstrap token) to get back in.
  if (actor.principal.id === id) throw conflict(`you cannot ${what} yourself; ask another admin`);
}

/** Disabling stops every token of the principal at once (authenticate checks it); enabling brings them back. */
export async function setDisabled(actor: Actor, id: string, disabled: boolean): Promise<Principal> {
  requireAdmin(actor);
  const updated = await inTransaction(actor, async (trx) => {
    const row = await lockLivePrincipal(trx, id, "update");
    if (!row) throw notFound("Principal", id);
    if (disabled) notSelf(actor, id, "disable");
    await invalidateAfterCommit(trx, actor, "principal", id);
    return setPrincipalDisabled(trx, id, disabled);
  });
  return toPrincipal(updated);
}

/**
 * Deletes a principal: its tokens are revoked and its grants removed in one
 * transaction; the row stays (soft) so audit columns keep naming it, and its
 * name is free again. The last owner of a live agent cannot be deleted (409):
 * every agent keeps an owner. The owned agents are locked first, in id order,
 * as every other agent writer locks them.
 */
export async function deletePrincipal(actor: Actor, id: string): Promise<{ id: string; message: string }> {
  requireAdmin(actor);
  return inTransaction(actor, async (trx) => {
    notSelf(actor, id, "delete");
    const owned = await lockOwnedAgents(trx, id);
    const row = await lockLivePrincipal(trx, id, "update");
    if (!row) throw notFound("Principal", id);
    const sole = owned.filter((a) => a.owners <= 1);
    if (sole.length > 0) {
      throw conflict(
        `principal '${id}' is the only owner of ${sole.length} agent(s) (e.g. '${sole[0]!.id}'); make someone else owner first`,
      );
    }
    await markPrincipalDeleted(trx, id);
    await invalidateAfterCommit(trx, actor, "principal", id);
    return { id, message: `Principal '${id}' deleted successfully` };
  });
}

/** A new principal and its first token (shown once); a live principal's name is not free (409). */
export async function createPrincipal(actor: Actor, input: CreatePrincipalInput): Promise<CreatedPrincipal> {
  requireAdmin(actor);
  const row = await insertPrincipal(actor.db, input);
  if (!row) throw conflict(`a principal named '${input.name}' already exists`);
  const { row: token, token: secret } = await issueToken(actor.db, row.id, "initial");
  return { ...toPrincipal(row), token: secret, token_id: token.id };
}

/** Every live principal, oldest first (admins only). */
export async function allPrincipals(reader: Reader): Promise<Principal[]> {
  requireAdmin(reader);
  return (await listPrincipals(reader.db)).map(toPrincipal);
}

/** The caller's principal row, for `me`; an agent key has none. */
export async function callerPrincipal(actor: Actor): Promise<PrincipalRow | undefined> {
  return actor.principal.kind === "agent" ? undefined : findPrincipal(actor.db, actor.principal.id);
}
