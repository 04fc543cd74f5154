import type { DB, DeploymentHistoryRow, Kysely, Transaction } from "@agentex/db";
import { sql, type InsertObject } from "kysely";
import type { OrderDirection } from "../schemas/paging.ts";
import type { HistoryOrderBy } from "../schemas/deployment-history.ts";

export async function lastHistoryCommit(trx: Transaction<DB>, agentId: string): Promise<string | undefined> {
  const row = await trx
    .selectFrom("deployment_history")
    .select("commit_hash")
    .where("agent_id", "=", agentId)
    .orderBy("deployment_timestamp", "desc")
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  return row?.commit_hash;
}

export async function insertHistory(
  trx: Transaction<DB>,
  values: InsertObject<DB, "deployment_history">,
): Promise<void> {
  await trx.insertInto("deployment_history").values(values).execute();
}

export async function findHistory(db: Kysely<DB>, id: string): Promise<DeploymentHistoryRow | undefined> {
  return db.selectFrom("deployment_history").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Agentex's history page: optionally one commit's records, offset-paged. */
export interface HistoryPage {
  commit_hash?: string | null | undefined;
  limit: number;
  page_number: number;
  order_by: HistoryOrderBy;
  order_direction: OrderDirection;
}

export async function listHistory(
  db: Kysely<DB>,
  agentId: string,
  page: HistoryPage,
): Promise<DeploymentHistoryRow[]> {
  let q = db.selectFrom("deployment_history").selectAll().where("agent_id", "=", agentId);
  if (page.commit_hash) q = q.where("commit_hash", "=", page.commit_hash);
  return q
    .orderBy(sql.ref(page.order_by), page.order_direction)
    .orderBy("id", page.order_direction)
    .limit(page.limit)
    .offset(page.limit * (page.page_number - 1))
    .execute();
}
