import type { DB, DeploymentHistoryRow, Kysely, Transaction } from "@agentex/db";
import { sql, type InsertObject } from "kysely";
import type { OrderDirection } from "../schemas/agent.ts";
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

export async function listHistory(
  db: Kysely<DB>,
  agentId: string,
  opts: {
    commitHash?: string | null;
    limit: number;
    pageNumber: number;
    orderBy: HistoryOrderBy;
    direction: OrderDirection;
  },
): Promise<DeploymentHistoryRow[]> {
  let q = db.selectFrom("deployment_history").selectAll().where("agent_id", "=", agentId);
  if (opts.commitHash) q = q.where("commit_hash", "=", opts.commitHash);
  return q
    .orderBy(sql.ref(opts.orderBy), opts.direction)
    .orderBy("id", opts.direction)
    .limit(opts.limit)
    .offset(opts.limit * (opts.pageNumber - 1))
    .execute();
}
