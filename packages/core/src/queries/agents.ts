import type { AgentRole, AgentRow, DB, Kysely, Transaction } from "@agentex/db";
import {
  CompiledQuery,
  sql,
  type Expression,
  type ExpressionBuilder,
  type InsertObject,
  type SqlBool,
  type UpdateObject,
} from "kysely";
import type { Caller } from "../auth.ts";
import type { AgentOrderBy } from "../schemas/agent.ts";
import type { OrderDirection } from "../schemas/paging.ts";
import { decodeCursor, pageScope, sortKeyPage } from "./cursor.ts";

// Precompiled: the hottest read skips Kysely's per-call query building.
const AGENT_BY_ID = `select * from agents where id = $1 and status <> 'Deleted'`;
const AGENT_BY_NAME = `select * from agents where name = $1 and status <> 'Deleted'`;
const AGENT_BY_ID_WITH_GRANT = `select agents.*, (select g.role from grants g where g.agent_id = agents.id and g.principal_id = $2) as caller_role
  from agents where id = $1 and status <> 'Deleted'`;
const AGENT_BY_NAME_WITH_GRANT = `select agents.*, (select g.role from grants g where g.agent_id = agents.id and g.principal_id = $2) as caller_role
  from agents where name = $1 and status <> 'Deleted'`;

/**
 * A live agent and, when `grantee` is given, that principal's grant on it: the
 * read and its access check in one round trip.
 */
export async function findLiveAgentWithGrant(
  db: Kysely<DB>,
  by: { id: string } | { name: string },
  grantee: string | null,
): Promise<{ agent: AgentRow; grant: AgentRole | null } | undefined> {
  const key = "id" in by ? by.id : by.name;
  const query = grantee
    ? CompiledQuery.raw("id" in by ? AGENT_BY_ID_WITH_GRANT : AGENT_BY_NAME_WITH_GRANT, [key, grantee])
    : CompiledQuery.raw("id" in by ? AGENT_BY_ID : AGENT_BY_NAME, [key]);
  const { rows } = await db.executeQuery<AgentRow & { caller_role?: AgentRole | null }>(query);
  const row = rows[0];
  if (!row) return undefined;
  const { caller_role, ...agent } = row;
  return { agent, grant: caller_role ?? null };
}

/** A live agent by id or name, with no access check (the forward route checks its own credentials). */
export async function findLiveAgent(
  db: Kysely<DB>,
  by: { id: string } | { name: string },
): Promise<AgentRow | undefined> {
  return (await findLiveAgentWithGrant(db, by, null))?.agent;
}

/** Locks the agent row: every write to an agent or its deployments takes this lock first. */
export async function lockLiveAgent(
  trx: Transaction<DB>,
  by: { id: string } | { name: string },
): Promise<AgentRow | undefined> {
  let q = trx.selectFrom("agents").selectAll().where("status", "<>", "Deleted");
  q = "id" in by ? q.where("id", "=", by.id) : q.where("name", "=", by.name);
  return q.forUpdate().executeTakeFirst();
}

/**
 * Inserts unless a live agent holds the name. The partial unique index decides,
 * so concurrent callers racing for one name produce exactly one row.
 */
export async function insertAgentIfNameFree(
  trx: Transaction<DB>,
  values: InsertObject<DB, "agents">,
): Promise<AgentRow | undefined> {
  return trx
    .insertInto("agents")
    .values(values)
    .onConflict((oc) => oc.column("name").where("status", "<>", "Deleted").doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function updateAgent(
  trx: Transaction<DB>,
  id: string,
  patch: UpdateObject<DB, "agents">,
): Promise<AgentRow> {
  return trx
    .updateTable("agents")
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Soft delete: the row stays for history; the name is free again at once (the unique index skips it). */
export async function markAgentDeleted(trx: Transaction<DB>, id: string): Promise<void> {
  await trx
    .updateTable("agents")
    .set({
      status: "Deleted",
      status_reason: "Deleted",
      deleted_at: sql<Date>`now()`,
      updated_at: sql<Date>`now()`,
    })
    .where("id", "=", id)
    .execute();
}

export async function recordRename(
  trx: Transaction<DB>,
  values: { agent_id: string; old_name: string; new_name: string; renamed_by: string | null },
): Promise<void> {
  await trx.insertInto("agent_renames").values(values).execute();
}

/** Agents the principal may read, filtered in SQL so pages are never short. */
function visibleTo(principal: Caller) {
  return (eb: ExpressionBuilder<DB, "agents">): Expression<SqlBool> => {
    if (principal.admin) return sql<boolean>`true`;
    if (principal.kind === "agent") return eb("agents.id", "=", principal.agent_id ?? "");
    return eb.exists(
      eb
        .selectFrom("grants")
        .select(sql`1`.as("one"))
        .whereRef("grants.agent_id", "=", "agents.id")
        .where("grants.principal_id", "=", principal.id),
    );
  };
}

// registered_at may be null; the expression matches the index and keeps keyset comparisons total.
const SORT_EXPR: Record<AgentOrderBy, ReturnType<typeof sql.raw>> = {
  created_at: sql.raw("agents.created_at"),
  updated_at: sql.raw("agents.updated_at"),
  name: sql.raw("agents.name"),
  registered_at: sql.raw(`coalesce(agents.registered_at, '-infinity'::timestamptz)`),
};
const SORT_TYPE: Record<AgentOrderBy, string> = {
  created_at: "timestamptz",
  updated_at: "timestamptz",
  name: "text",
  registered_at: "timestamptz",
};

export interface AgentListQuery {
  orderBy: AgentOrderBy;
  direction: OrderDirection;
  status?: AgentRow["status"] | undefined;
  /** Case-insensitive substring of the name. */
  search?: string | undefined;
  limit: number;
}

/** `%`, `_` and `\\` in a search are literal characters, not patterns. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function baseList(db: Kysely<DB>, principal: Caller, q: AgentListQuery) {
  const expr = SORT_EXPR[q.orderBy];
  const dir = sql.raw(q.direction);
  let query = db
    .selectFrom("agents")
    .selectAll("agents")
    .select(sql<string>`(${expr})::text`.as("sort_key"))
    .where("agents.status", "<>", "Deleted")
    .where(visibleTo(principal));
  if (q.status) query = query.where("agents.status", "=", q.status);
  if (q.search) query = query.where("agents.name", "ilike", likePattern(q.search));
  return query
    .orderBy(sql`${expr} ${dir}`)
    .orderBy(sql`agents.id ${dir}`)
    .limit(q.limit);
}

/**
 * A page by offset, as cheap as an offset can be: the skipped rows are walked
 * in the (sort key, id) index only (a deferred join), and only the page's rows
 * are fetched. Also returns the keyset cursor after the page, so a client can
 * switch to `cursor` for the next one.
 */
export async function listAgentsByOffset(
  db: Kysely<DB>,
  principal: Caller,
  q: AgentListQuery & { offset: number },
): Promise<{ rows: AgentRow[]; nextCursor: string | null }> {
  const expr = SORT_EXPR[q.orderBy];
  const dir = sql.raw(q.direction);
  let ids = db
    .selectFrom("agents")
    .select("agents.id")
    .where("agents.status", "<>", "Deleted")
    .where(visibleTo(principal));
  if (q.status) ids = ids.where("agents.status", "=", q.status);
  const page = ids
    .orderBy(sql`${expr} ${dir}`)
    .orderBy(sql`agents.id ${dir}`)
    .limit(q.limit + 1)
    .offset(q.offset);
  const rows = await db
    .selectFrom("agents")
    .innerJoin(page.as("page"), "page.id", "agents.id")
    .selectAll("agents")
    .select(sql<string>`(${expr})::text`.as("sort_key"))
    .orderBy(sql`${expr} ${dir}`)
    .orderBy(sql`agents.id ${dir}`)
    .execute();
  return sortKeyPage(rows, q.limit, listScope(q));
}

function listScope(q: AgentListQuery): string {
  // A name search is part of the scope only when there is one, so cursors issued without one keep working.
  return pageScope("agents", q, q.status ?? "", ...(q.search ? [q.search.toLowerCase()] : []));
}

export async function listAgentsByCursor(
  db: Kysely<DB>,
  principal: Caller,
  q: AgentListQuery & { cursor?: string | null | undefined },
): Promise<{ rows: AgentRow[]; nextCursor: string | null }> {
  const scope = listScope(q);
  let query = baseList(db, principal, { ...q, limit: q.limit + 1 });
  if (q.cursor) {
    const after = decodeCursor(q.cursor, scope);
    const op = sql.raw(q.direction === "asc" ? ">" : "<");
    const type = sql.raw(SORT_TYPE[q.orderBy]);
    query = query.where(
      sql<boolean>`(${SORT_EXPR[q.orderBy]}, agents.id) ${op} (${after.keys[0]}::${type}, ${after.id}::uuid)`,
    );
  }
  return sortKeyPage(await query.execute(), q.limit, scope);
}

/** How many live agents the principal may read, per status (one grouped query). */
export async function countAgentsByStatus(
  db: Kysely<DB>,
  principal: Caller,
): Promise<Array<{ status: AgentRow["status"]; count: number }>> {
  const rows = await db
    .selectFrom("agents")
    .select(["agents.status", sql<number>`count(*)::int`.as("count")])
    .where("agents.status", "<>", "Deleted")
    .where(visibleTo(principal))
    .groupBy("agents.status")
    .execute();
  return rows;
}
