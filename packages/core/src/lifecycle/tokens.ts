import type { ApiTokenRow } from "@agentex/db";
import { notFound } from "../errors.ts";
import { lockLivePrincipal } from "../queries/principals.ts";
import { findLiveToken, issueToken, listLiveTokens, markTokenRevoked } from "../queries/tokens.ts";
import type { DeletedResponse } from "../schemas/common.ts";
import { inTransaction, invalidateAfterCommit, type Actor } from "./actor.ts";
import { requireAdmin } from "./principals.ts";

/** A new token for a live principal, taken under its row lock so it cannot outlive a concurrent delete. */
export async function createToken(
  actor: Actor,
  input: { principal_id: string; name?: string | null | undefined; expiresAt: Date | null },
) {
  requireAdmin(actor);
  return inTransaction(actor, async (trx) => {
    if (!(await lockLivePrincipal(trx, input.principal_id, "share")))
      throw notFound("Principal", input.principal_id);
    return issueToken(trx, input.principal_id, input.name ?? null, { expiresAt: input.expiresAt });
  });
}

/** A principal's live tokens, for an admin or the principal itself; anyone else is told it does not exist. */
export async function listTokens(actor: Actor, principalId: string): Promise<ApiTokenRow[]> {
  if (!actor.principal.admin && actor.principal.id !== principalId) throw notFound("Principal", principalId);
  return listLiveTokens(actor.db, principalId);
}

/** Revokes a token (an admin, or the principal that holds it); it stops at once, here and on the other replicas. */
export async function revokeToken(actor: Actor, tokenId: string): Promise<DeletedResponse> {
  const token = await findLiveToken(actor.db, tokenId);
  const mine = token?.principal_id === actor.principal.id && actor.principal.kind !== "agent";
  if (!token || !(actor.principal.admin || mine)) throw notFound("Token", tokenId);
  await markTokenRevoked(actor.db, token.id);
  await invalidateAfterCommit(actor.db, actor, "credential", token.id);
  return { id: token.id, message: `Token '${token.id}' revoked` };
}
