import { withTransaction, type DB, type Kysely, type Transaction } from "@agentex/db";
import type { Caller } from "../auth.ts";
import { appendEvents, type NewEvent } from "../queries/events.ts";

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type LifecycleEvent =
  | "agent_created"
  | "agent_deleted"
  | "promotion"
  | "registration"
  | "deployment_created"
  | "deployment_deleted"
  | "health_changed";

/** Hooks the host can observe (metrics, the change feed); the rules never depend on them. */
export interface LifecycleEvents {
  onEvent?(event: LifecycleEvent): void;
  /**
   * After a commit that appended to the change feed's outbox: the last event
   * id written. The host NOTIFYs every replica's feed with it.
   */
  onFeed?(lastEventId: number): void;
}

/**
 * What revoke/disable/delete/grant code calls after its transaction commits,
 * so a change to who a credential authenticates as takes effect on the next
 * request: at once on this replica, and on the others when the NOTIFY arrives
 * (well under a second).
 */
export interface AuthInvalidation {
  /** A token or agent API key (by its row id) was revoked, rotated or expired early. */
  credential(id: string): Promise<void>;
  /** A principal was disabled, deleted or had its flags changed: every token of it. */
  principal(id: string): Promise<void>;
  /** An agent was deleted or its keys rotated: every key authenticating as it. */
  agent(id: string): Promise<void>;
}

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
