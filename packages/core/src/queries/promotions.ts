import type { DB, Kysely, PromotionRow, Transaction } from "@agentex/db";
import { sql, type InsertObject } from "kysely";
import { invalid } from "../errors.ts";
import { decodeCursor, encodeCursor, keysetPage } from "./cursor.ts";

/** A ledger row as the caller supplies it: the database numbers and times it. */
export type NewPromotion = Omit<InsertObject<DB, "promotions">, "id" | "at">;

/** Appends one ledger row; the caller holds the agent row lock, in the same transaction as the change. */
export async function insertPromotion(trx: Transaction<DB>, row: NewPromotion): Promise<PromotionRow> {
  return trx.insertInto("promotions").values(row).returningAll().executeTakeFirstOrThrow();
}

/** Newest first, keyset-paged on the ledger id (the order the changes happened in). */
export async function listPromotions(
  db: Kysely<DB>,
  agentId: string,
  limit: number,
  cursor?: string | null,
): Promise<{ rows: PromotionRow[]; nextCursor: string | null }> {
  const scope = `promotions:${agentId}`;
  let q = db
    .selectFrom("promotions")
    .selectAll()
    .where("agent_id", "=", agentId)
    .orderBy("id", "desc")
    .limit(limit + 1);
  if (cursor) {
    const after = decodeCursor(cursor, scope);
    const id = Number(after.keys[0]);
    if (!Number.isSafeInteger(id))
      throw invalid([{ field: "cursor", message: "is not a cursor issued for this listing" }]);
    q = q.where("id", "<", id);
  }
  return keysetPage(await q.execute(), limit, (last) => encodeCursor(scope, String(last.id), agentId));
}

/**
 * The agent's still-effective promote/cleared rows, newest first: those no
 * rollback has undone. A rollback row undoes every row with
 * `undoes_id <= id < rollback.id`, i.e. it pops the history back to before
 * `undoes_id`. The first row is the one that made the current production.
 */
export async function effectiveHistory(trx: Transaction<DB>, agentId: string): Promise<PromotionRow[]> {
  return trx
    .selectFrom("promotions as r")
    .selectAll("r")
    .where("r.agent_id", "=", agentId)
    .where("r.kind", "<>", "rollback")
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("promotions as rb")
            .select(sql`1`.as("one"))
            .whereRef("rb.agent_id", "=", "r.agent_id")
            .where("rb.kind", "=", "rollback")
            .whereRef("rb.undoes_id", "<=", "r.id")
            .whereRef("rb.id", ">", "r.id"),
        ),
      ),
    )
    .orderBy("r.id", "desc")
    .execute();
}

/** The ledger row in force at `at` (the newest one at or before it), if any. */
export async function promotionAt(
  db: Kysely<DB>,
  agentId: string,
  at: Date,
): Promise<PromotionRow | undefined> {
  return db
    .selectFrom("promotions")
    .selectAll()
    .where("agent_id", "=", agentId)
    .where("at", "<=", at)
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
}
