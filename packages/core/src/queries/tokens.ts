import type { ApiTokenRow, DB, Kysely } from "@agentex/db";
import { sql } from "kysely";
import { displayPrefix, hashCredential, newToken } from "../crypto.ts";

export interface TokenOptions {
  expiresAt?: Date | null;
  bootstrap?: boolean;
}

function tokenValues(principalId: string, name: string | null, token: string, opts: TokenOptions) {
  return {
    principal_id: principalId,
    name,
    token_hash: hashCredential(token),
    token_prefix: displayPrefix(token),
    expires_at: opts.expiresAt ?? null,
    bootstrap: opts.bootstrap ?? false,
  };
}

/** Issues a fresh token; the secret is returned once and only its hash stored. */
export async function issueToken(
  db: Kysely<DB>,
  principalId: string,
  name: string | null,
  opts: TokenOptions = {},
): Promise<{ row: ApiTokenRow; token: string }> {
  const token = newToken();
  const row = await db
    .insertInto("api_tokens")
    .values(tokenValues(principalId, name, token, opts))
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, token };
}

/** Stores a caller-chosen token (the operator's bootstrap token) unless it is already known; undefined if it was. */
export async function insertTokenIfNew(
  db: Kysely<DB>,
  principalId: string,
  name: string | null,
  token: string,
  opts: TokenOptions = {},
): Promise<ApiTokenRow | undefined> {
  return db
    .insertInto("api_tokens")
    .values(tokenValues(principalId, name, token, opts))
    .onConflict((oc) => oc.column("token_hash").doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Retires every live bootstrap token but `keepId`: a rotated AGENTEX_BOOTSTRAP_TOKEN replaces the old one. */
export async function revokeBootstrapTokensExcept(db: Kysely<DB>, keepId: string): Promise<void> {
  await db
    .updateTable("api_tokens")
    .set({ revoked_at: sql<Date>`now()` })
    .where("bootstrap", "=", true)
    .where("revoked_at", "is", null)
    .where("id", "<>", keepId)
    .execute();
}

export async function findLiveToken(db: Kysely<DB>, id: string): Promise<ApiTokenRow | undefined> {
  return db
    .selectFrom("api_tokens")
    .selectAll()
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

/** Tokens that still authenticate (not revoked, not expired), with their expiry. */
export async function listLiveTokens(db: Kysely<DB>, principalId: string): Promise<ApiTokenRow[]> {
  return db
    .selectFrom("api_tokens")
    .selectAll()
    .where("principal_id", "=", principalId)
    .where("revoked_at", "is", null)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
    .orderBy("created_at")
    .execute();
}

export async function markTokenRevoked(db: Kysely<DB>, id: string): Promise<void> {
  await db
    .updateTable("api_tokens")
    .set({ revoked_at: sql<Date>`now()` })
    .where("id", "=", id)
    .execute();
}
