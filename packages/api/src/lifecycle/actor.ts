import { withTransaction, type DB, type Kysely, type Transaction } from "@agentex/db";
import type { Caller } from "../auth.ts";
import type { LifecycleEvent, LifecycleEvents, Logger } from "../context.ts";
import { appendEvents, type NewEvent } from "../queries/events.ts";
import type { AuthInvalidation } from "../auth-cache.ts";

/** What lifecycle code needs from a request: the store, the caller, the server secret. */
export interface Actor {
  db: Kysely<DB>;
  principal: Caller;
  secretKey: Buffer;
  events: LifecycleEvents;
  /** The request's logger, for actions recorded in the log (renames). */
  log?: Logger;
  /** Recorded in the promotion ledger. */
  requestId: string;
  /** Told after commit when a change alters what a credential authenticates as. */
  auth?: AuthInvalidation | null;
}

/** Records a lifecycle event (metrics) and the change-feed events it produced. */
export type Emit = (event: LifecycleEvent, ...changes: NewEvent[]) => void;

/**
 * Runs `fn` in a (retried) transaction. Change-feed events it records are
 * appended to the outbox as the transaction's last statements (same commit);
 * everything is reported only after the commit, so a rolled-back or retried
 * attempt counts and announces nothing.
 */
export async function inTransaction<T>(
  actor: Actor,
  fn: (trx: Transaction<DB>, emit: Emit) => Promise<T>,
): Promise<T> {
  let events: LifecycleEvent[] = [];
  let lastId: number | null = null;
  const result = await withTransaction(actor.db, async (trx) => {
    events = [];
    const changes: NewEvent[] = [];
    const value = await fn(trx, (event, ...more) => {
      events.push(event);
      changes.push(...more);
    });
    lastId = await appendEvents(trx, changes);
    return value;
  });
  for (const event of events) actor.events.onEvent?.(event);
  if (lastId !== null) actor.events.onFeed?.(lastId);
  return result;
}
