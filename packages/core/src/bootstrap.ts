import { withTransaction, type DB, type Kysely } from "@agentex/db";
import { anyLiveAdmin, findPrincipalByName, insertPrincipal } from "./queries/principals.ts";
import { insertTokenIfNew, issueToken, revokeBootstrapTokensExcept } from "./queries/tokens.ts";

const ADMIN_NAME = "admin";
const ADMIN = { name: ADMIN_NAME, kind: "user", admin: true, can_create_agents: true } as const;

/**
 * Makes sure an admin can get in. With an operator-chosen token, that token
 * is ensured (idempotent, safe for replicas starting together); a value seen
 * for the first time revokes every earlier bootstrap token, so rotating
 * AGENTEX_BOOTSTRAP_TOKEN retires the old one. A value already known changes
 * nothing: a token the operator revoked stays revoked, and a replica still
 * running with an older value cannot revoke the newer one. Without a value,
 * a fresh token is minted only when no admin exists yet and returned so the
 * server can print it once; later starts return null.
 */
export async function bootstrapAdmin(db: Kysely<DB>, token?: string): Promise<{ token: string } | null> {
  if (token) {
    await insertPrincipal(db, ADMIN);
    const admin = await findPrincipalByName(db, ADMIN_NAME);
    if (!admin) throw new Error(`principal '${ADMIN_NAME}' could not be created`);
    // Never elevate: a non-admin that took the name must not become admin through the environment.
    if (!admin.admin)
      throw new Error(
        `principal '${ADMIN_NAME}' exists but is not an admin; refusing to attach the bootstrap token`,
      );
    await withTransaction(db, async (trx) => {
      const inserted = await insertTokenIfNew(trx, admin.id, "bootstrap", token, { bootstrap: true });
      if (inserted) await revokeBootstrapTokensExcept(trx, inserted.id);
    });
    return null;
  }
  if (await anyLiveAdmin(db)) return null;
  const admin = await insertPrincipal(db, ADMIN);
  if (!admin) return null;
  const issued = await issueToken(db, admin.id, "bootstrap", { bootstrap: true });
  return { token: issued.token };
}
