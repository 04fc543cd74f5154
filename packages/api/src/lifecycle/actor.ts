import { withTransaction, type DB, type Kysely, type Transaction } from '@agentex/db';
import type { Principal } from '../auth.ts';
import type { AuthInvalidation } from '../auth-cache.ts';
import type { LifecycleEvent, LifecycleEvents } from '../context.ts';

/** What lifecycle code needs from a request: the store, the caller, the server secret. */
export interface Actor {
  db: Kysely<DB>;
  principal: Principal;
  secretKey: Buffer;
  events: LifecycleEvents;
  /** Told after commit when a change alters what a credential authenticates as. */
  auth?: AuthInvalidation | null;
}

export type Emit = (event: LifecycleEvent) => void;

/**
 * Runs `fn` in a (retried) transaction. Events it records are reported only
 * after the commit, so a rolled-back or retried attempt counts nothing.
 */
export async function inTransaction<T>(actor: Actor, fn: (trx: Transaction<DB>, emit: Emit) => Promise<T>): Promise<T> {
  let events: LifecycleEvent[] = [];
  const result = await withTransaction(actor.db, (trx) => {
    events = [];
    return fn(trx, (event) => events.push(event));
  });
  for (const event of events) actor.events.onEvent?.(event);
  return result;
}
