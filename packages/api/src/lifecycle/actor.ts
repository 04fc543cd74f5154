import type { DB, Kysely } from '@agentex/db';
import type { Principal } from '../auth.ts';
import type { LifecycleEvents } from '../context.ts';

/** What lifecycle code needs from a request: the store, the caller, the server secret. */
export interface Actor {
  db: Kysely<DB>;
  principal: Principal;
  secretKey: Buffer;
  events: LifecycleEvents;
}
