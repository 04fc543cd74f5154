import type { DB, EventRow, Kysely, Transaction } from "@agentex/db";
import { sql } from "kysely";

export interface NewEvent {
  type: string;
  agent_id: string;
  deployment_id: string | null;
  data: Record<string, unknown>;
  /** Readers known before the transaction removed them (a deleted agent's grants). */
  readers?: string[];
}

/** Principals holding any grant on the agent right now (in the caller's transaction). */
export async function grantHolders(trx: Transaction<DB>, agentId: string): Promise<string[]> {
  const rows = await trx
    .selectFrom("grants")
    .select("principal_id")
    .where("agent_id", "=", agentId)
    .execute();
  return rows.map((r) => r.principal_id);
}

/**
 * Appends events to the outbox as the last statements of the transaction.
 * The counter row's lock is held from here to commit, so concurrent writers
 * commit their events in id order. Returns the last id written.
 */
export async function appendEvents(trx: Transaction<DB>, events: NewEvent[]): Promise<number | null> {
  if (events.length === 0) return null;
  const readers = new Map<string, string[]>();
  for (const e of events) {
    if (!e.readers && !readers.has(e.agent_id)) readers.set(e.agent_id, await grantHolders(trx, e.agent_id));
  }
  const counter = await trx
    .updateTable("event_counter")
    .set({ last_id: sql<number>`last_id + ${events.length}` })
    .where("one", "=", true)
    .returning("last_id")
    .executeTakeFirstOrThrow();
  const last = Number(counter.last_id);
  const first = last - events.length + 1;
  await trx
    .insertInto("events")
    .values(
      events.map((e, i) => ({
        id: first + i,
        type: e.type,
        agent_id: e.agent_id,
        deployment_id: e.deployment_id,
        readers: e.readers ?? readers.get(e.agent_id) ?? [],
        data: JSON.stringify(e.data),
      })),
    )
    .execute();
  return last;
}

/** The id of the last committed event (0 when none was ever written). */
export async function lastEventId(db: Kysely<DB>): Promise<number> {
  const row = await db
    .selectFrom("event_counter")
    .select("last_id")
    .where("one", "=", true)
    .executeTakeFirst();
  return Number(row?.last_id ?? 0);
}

export async function eventsAfter(db: Kysely<DB>, afterId: number, limit: number): Promise<EventRow[]> {
  const rows = await db
    .selectFrom("events")
    .selectAll()
    .where("id", ">", afterId)
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** The oldest retained event id, or null when the outbox is empty. */
export async function oldestEventId(db: Kysely<DB>): Promise<number | null> {
  const row = await db
    .selectFrom("events")
    .select((eb) => eb.fn.min<number>("id").as("id"))
    .executeTakeFirst();
  return row?.id === null || row?.id === undefined ? null : Number(row.id);
}

/** Deletes events older than `retentionMs`; returns how many went. */
export async function purgeEvents(db: Kysely<DB>, retentionMs: number): Promise<number> {
  const result = await db
    .deleteFrom("events")
    .where("created_at", "<", sql<Date>`now() - make_interval(secs => ${retentionMs / 1000})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
