import type { DB, Kysely, Transaction } from "@agentex/db";
import { sql } from "kysely";

export interface StoredKey {
  procedure: string;
  request_hash: string;
  response: string;
}

/**
 * Claims (scope, key) for this transaction. Returns true when the row is new;
 * false when a committed row exists (its answer is then read with findKey).
 * A duplicate still in flight holds the unique key, so this waits for it to
 * commit or roll back, at most `waitMs` (then Postgres raises 55P03).
 */
export async function claimKey(
  trx: Transaction<DB>,
  row: { scope: string; key: string; procedure: string; request_hash: string; ttlSeconds: number },
  waitMs: number,
): Promise<boolean> {
  await sql`select set_config('lock_timeout', ${`${Math.max(1, Math.round(waitMs))}ms`}, true)`.execute(trx);
  // An expired row is as good as none: it goes, and the key starts afresh.
  await trx
    .deleteFrom("idempotency_keys")
    .where("scope", "=", row.scope)
    .where("key", "=", row.key)
    .where("expires_at", "<", sql<Date>`now()`)
    .execute();
  const inserted = await trx
    .insertInto("idempotency_keys")
    .values({
      scope: row.scope,
      key: row.key,
      procedure: row.procedure,
      request_hash: row.request_hash,
      response: "",
      expires_at: sql<Date>`now() + make_interval(secs => ${row.ttlSeconds})`,
    })
    .onConflict((oc) => oc.columns(["scope", "key"]).doNothing())
    .returning("key")
    .executeTakeFirst();
  await sql`select set_config('lock_timeout', '0', true)`.execute(trx);
  return inserted !== undefined;
}

export async function findKey(
  trx: Transaction<DB>,
  scope: string,
  key: string,
): Promise<StoredKey | undefined> {
  return trx
    .selectFrom("idempotency_keys")
    .select(["procedure", "request_hash", "response"])
    .where("scope", "=", scope)
    .where("key", "=", key)
    .executeTakeFirst();
}

export async function storeResponse(
  trx: Transaction<DB>,
  scope: string,
  key: string,
  response: string,
): Promise<void> {
  await trx
    .updateTable("idempotency_keys")
    .set({ response })
    .where("scope", "=", scope)
    .where("key", "=", key)
    .execute();
}

/** Deletes up to `limit` expired keys, skipping rows another request holds. Returns how many went. */
export async function purgeExpiredKeys(db: Kysely<DB>, limit = 100): Promise<number> {
  const result = await sql`
    delete from idempotency_keys where (scope, key) in (
      select scope, key from idempotency_keys where expires_at < now() limit ${limit} for update skip locked
    )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
