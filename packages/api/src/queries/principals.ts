import type { ApiTokenRow, DB, Kysely, PrincipalKind, PrincipalRow } from '@agentex/db';
import { sql } from 'kysely';
import { displayPrefix, hashCredential, newToken } from '../crypto.ts';

export async function insertPrincipal(
  db: Kysely<DB>,
  values: { name: string; kind: PrincipalKind; admin: boolean; can_create_agents: boolean },
): Promise<PrincipalRow | undefined> {
  return db
    .insertInto('principals')
    .values(values)
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findPrincipal(db: Kysely<DB>, id: string): Promise<PrincipalRow | undefined> {
  return db.selectFrom('principals').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listPrincipals(db: Kysely<DB>): Promise<PrincipalRow[]> {
  return db.selectFrom('principals').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Issues a token; `token` may be given (the operator's bootstrap token), else a fresh one is made. */
export async function issueToken(
  db: Kysely<DB>,
  principalId: string,
  name: string | null,
  token: string = newToken(),
): Promise<{ row: ApiTokenRow; token: string }> {
  const row = await db
    .insertInto('api_tokens')
    .values({ principal_id: principalId, name, token_hash: hashCredential(token), token_prefix: displayPrefix(token) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, token };
}

export async function findLiveToken(db: Kysely<DB>, id: string): Promise<ApiTokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
}

export async function listLiveTokens(db: Kysely<DB>, principalId: string): Promise<ApiTokenRow[]> {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('principal_id', '=', principalId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .execute();
}

export async function revokeToken(db: Kysely<DB>, id: string): Promise<void> {
  await db.updateTable('api_tokens').set({ revoked_at: sql<Date>`now()` }).where('id', '=', id).execute();
}
