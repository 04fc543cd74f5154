import { randomUUID } from 'node:crypto';
import type { DB, Kysely } from '@agentex/db';
import type { Principal } from './auth.ts';
import type { AuthCache } from './auth-cache.ts';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type LifecycleEvent = 'agent_created' | 'agent_deleted' | 'promotion' | 'registration' | 'deployment_created';

/** Hooks the host can observe (metrics); the router never depends on them. */
export interface LifecycleEvents {
  onEvent?(event: LifecycleEvent): void;
}

export interface ContextOptions {
  db: Kysely<DB>;
  /** Server secret: internal agent keys are derived from it. */
  secretKey: Buffer;
  /** The bearer token of the request, if any; resolved lazily by the auth middleware. */
  token?: string | null;
  /** A principal already known (tests through createCaller, internal calls). */
  principal?: Principal | null;
  requestId?: string;
  log?: Logger;
  events?: LifecycleEvents;
  /**
   * REST lists keep the bare-array body; the transport puts the cursor of the
   * next page in response headers (`x-next-cursor`, `Link: rel="next"`).
   */
  onNextCursor?: ((cursor: string) => void) | null;
  /** The server's principal cache; also how revoke/delete code invalidates credentials. Absent: every call asks the database. */
  auth?: AuthCache | null;
}

const silent: Logger = { info() {}, warn() {}, error() {} };

/** Transport-free context: the server builds it from a request, tests build it directly. */
export function createContextInner(opts: ContextOptions) {
  return {
    db: opts.db,
    secretKey: opts.secretKey,
    token: opts.token ?? null,
    principal: opts.principal ?? null,
    requestId: opts.requestId ?? randomUUID(),
    log: opts.log ?? silent,
    events: opts.events ?? {},
    auth: opts.auth ?? null,
    onNextCursor: opts.onNextCursor ?? null,
  };
}

export type Context = ReturnType<typeof createContextInner>;
