import { randomUUID } from "node:crypto";
import type { Caller, ChangeFeed, CredentialCache, LifecycleEvents, Logger } from "@agentex/core";
import type { DB, Kysely } from "@agentex/db";

export interface ContextOptions {
  db: Kysely<DB>;
  /** Server secret: internal agent keys are derived from it. */
  secretKey: Buffer;
  /** The bearer token of the request, if any; resolved lazily by the auth middleware. */
  token?: string | null;
  /** A principal already known (tests through createCaller, internal calls). */
  principal?: Caller | null;
  requestId?: string;
  log?: Logger;
  events?: LifecycleEvents;
  /** The request's `Idempotency-Key` header, if any (REST, or /trpc). */
  idempotencyKey?: string | null;
  /** Sets a response header (the host's reply); absent in createCaller tests. */
  setHeader?: (name: string, value: string) => void;
  /** The process's change-feed hub (subscriptions); absent, `events.watch` answers 503. */
  feed?: ChangeFeed | null;
  /** Ends the underlying connection at once (a subscriber too slow to keep up). */
  abortConnection?: (() => void) | null;
  /**
   * REST lists keep the bare-array body; the transport puts the cursor of the
   * next page in response headers (`x-next-cursor`, `Link: rel="next"`).
   */
  onNextCursor?: ((cursor: string) => void) | null;
  /**
   * Told the procedure of each call as it starts (`agents.get`), on /trpc and
   * /api alike: the host labels its request metrics with it.
   */
  onProcedure?: ((path: string) => void) | null;
  /** The server's principal cache; also how revoke/delete code invalidates credentials. Absent: every call asks the database. */
  auth?: CredentialCache | null;
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
    idempotencyKey: opts.idempotencyKey ?? null,
    setHeader: opts.setHeader ?? (() => {}),
    feed: opts.feed ?? null,
    abortConnection: opts.abortConnection ?? null,
    auth: opts.auth ?? null,
    onNextCursor: opts.onNextCursor ?? null,
    onProcedure: opts.onProcedure ?? null,
  };
}

export type Context = ReturnType<typeof createContextInner>;
