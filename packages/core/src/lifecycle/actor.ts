import { afterCommit, withTransaction, type DB, type Kysely, type Transaction } from "@agentex/db";
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
 * What revoke/disable/delete code has run after the commit (`invalidateAfterCommit`),
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

/** What a read needs from a request: the store and the caller. */
export type Reader = Pick<Actor, "db" | "principal">;

/**
 * A reader of a REST list that keeps Agentex's bare-array body: the host is
 * handed the next page's cursor to put in response headers.
 */
export type ListReader = Reader & { onNextCursor?: ((cursor: string) => void) | null };

/** Records a lifecycle event (metrics) and the change-feed events it produced. */
export type Emit = (event: LifecycleEvent, ...changes: NewEvent[]) => void;

/**
 * Runs `fn` in a (retried) transaction, or in the caller's when `actor.db` is
 * one (an idempotent request). Change-feed events it records are appended to
 * the outbox as its last statements (same commit) and reported to the host
 * only after the outermost commit, like every `afterCommit` hook: a
 * rolled-back or retried attempt counts and announces nothing.
 */
export async function inTransaction<T>(
  actor: Actor,
  fn: (trx: Transaction<DB>, emit: Emit) => Promise<T>,
): Promise<T> {
  return withTransaction(actor.db, async (trx) => {
    const events: LifecycleEvent[] = [];
    const changes: NewEvent[] = [];
    const value = await fn(trx, (event, ...more) => {
      events.push(event);
      changes.push(...more);
    });
    const lastId = await appendEvents(trx, changes);
    await afterCommit(trx, () => {
      for (const event of events) actor.events.onEvent?.(event);
      if (lastId !== null) actor.events.onFeed?.(lastId);
    });
    return value;
  });
}

/**
 * Drops the cached authentications a change voids, once it has committed: a
 * replica that re-read the credential before the commit would cache it as
 * still live. Here at once after the commit, elsewhere when the NOTIFY arrives.
 */
export async function invalidateAfterCommit(
  db: Kysely<DB>,
  actor: Actor,
  scope: keyof AuthInvalidation,
  id: string,
): Promise<void> {
  const auth = actor.auth;
  if (auth) await afterCommit(db, () => auth[scope](id));
}
