import type { DB, Kysely } from '@agentex/db';
import { hashCredential, displayPrefix } from './crypto.ts';
import { insertPrincipal, issueToken } from './queries/principals.ts';

const ADMIN_NAME = 'admin';

/**
 * Makes sure an admin can get in. With an operator-chosen token, that token
 * is ensured (idempotent, safe for replicas starting together). Without one,
 * a fresh token is minted only when no admin exists yet and returned so the
 * server can print it once; later starts return null.
 */
export async function bootstrapAdmin(db: Kysely<DB>, token?: string): Promise<{ token: string } | null> {
  if (token) {
    await insertPrincipal(db, { name: ADMIN_NAME, kind: 'user', admin: true, can_create_agents: true });
    const admin = await db.selectFrom('principals').select(['id', 'admin']).where('name', '=', ADMIN_NAME).executeTakeFirstOrThrow();
    // Never elevate: a non-admin that took the name must not become admin through the environment.
    if (!admin.admin) throw new Error(`principal '${ADMIN_NAME}' exists but is not an admin; refusing to attach the bootstrap token`);
    await db
      .insertInto('api_tokens')
      .values({ principal_id: admin.id, name: 'bootstrap', token_hash: hashCredential(token), token_prefix: displayPrefix(token) })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .execute();
    return null;
  }
  const anyAdmin = await db.selectFrom('principals').select('id').where('admin', '=', true).executeTakeFirst();
  if (anyAdmin) return null;
  const admin = await insertPrincipal(db, { name: ADMIN_NAME, kind: 'user', admin: true, can_create_agents: true });
  if (!admin) return null;
  const issued = await issueToken(db, admin.id, 'bootstrap');
  return { token: issued.token };
}
