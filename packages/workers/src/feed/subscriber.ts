import {
  DomainError,
  HEARTBEAT,
  canSee,
  unauthenticated,
  type Caller,
  type ChangeEvent,
  type Logger,
  type WatchOptions,
} from "@agentex/core";
import type { Stored } from "./ring.ts";

/** One open stream on this replica: where it has read to, and how to wake or end it. */
export interface Subscriber {
  principalId: string;
  cursor: number;
  closed: string | null;
  wake: (() => void) | null;
  abort: (() => void) | null;
}

/** The reason a stream ends when its replica shuts down: the client reconnects (to any replica) and resumes. */
export const SHUTDOWN = "the server is shutting down; reconnect with Last-Event-ID to resume";

export const slowConsumer = (maxLag: number) =>
  `slow consumer: more than ${maxLag} events behind; reconnect with Last-Event-ID to resume`;

/** What a subscriber's stream reads from its replica's hub (feed/hub.ts). */
export interface FeedSource {
  /** The newest event id the hub has read. */
  head(): number;
  /** The oldest id in the hub's ring; undefined while it is empty. */
  ringStart(): number | undefined;
  readonly heartbeatMs: number;
  readonly maxLag: number;
  readonly log?: Logger | undefined;
  /** Reads what was committed since the last read (never rejects). */
  refresh(): Promise<void>;
  /** Up to `limit` events after `cursor`, from the ring or the database. */
  after(cursor: number, limit: number): Promise<Stored[]>;
  /** The oldest retained event id in the database. */
  oldest(): Promise<number | null>;
  reauthenticate(opts: WatchOptions): Promise<Caller | null>;
  attach(sub: Subscriber): void;
  detach(sub: Subscriber): void;
  close(sub: Subscriber, reason: string): void;
}

function reset(cursor: number, requested: number, oldest: number | null, why: string): ChangeEvent {
  return {
    id: cursor,
    type: "reset",
    agent_id: null,
    deployment_id: null,
    at: new Date().toISOString(),
    data: {
      reason: why,
      requested_last_event_id: requested,
      oldest_available_id: oldest,
      resumed_at_id: cursor,
    },
  };
}

/**
 * The stream of one subscriber: every event it may see, in id order, then
 * live. Yields HEARTBEAT after a quiet heartbeat interval; re-checks the
 * caller's token at each. Ends (throws) when the token is revoked, the
 * subscriber falls too far behind, or the hub stops.
 */
export async function* subscriberStream(
  hub: FeedSource,
  opts: WatchOptions,
  release: () => void,
): AsyncGenerator<ChangeEvent | typeof HEARTBEAT> {
  let principal = opts.principal;
  const sub: Subscriber = {
    principalId: principal.id,
    cursor: hub.head(),
    closed: null,
    wake: null,
    abort: opts.abortConnection ?? null,
  };
  hub.attach(sub);
  const onAbort = () => hub.close(sub, "aborted");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (opts.lastEventId === undefined || opts.lastEventId === null) {
      // Start after everything committed so far, not after what this replica happened to read.
      await hub.refresh();
      sub.cursor = hub.head();
    } else {
      const requested: number = opts.lastEventId;
      if (requested > hub.head()) await hub.refresh();
      if (requested > hub.head()) {
        yield reset(
          hub.head(),
          requested,
          null,
          `event ${requested} does not exist (the newest is ${hub.head()})`,
        );
      } else {
        sub.cursor = requested;
        const first = hub.ringStart();
        if (requested < hub.head() && (first === undefined || requested + 1 < first)) {
          const oldest = await hub.oldest();
          if (oldest === null || oldest > requested + 1) {
            sub.cursor = hub.head();
            yield reset(
              hub.head(),
              requested,
              oldest,
              "the events after the requested id are no longer retained; re-read the state you need",
            );
          }
        }
      }
    }
    let lastBeat = Date.now();
    while (!sub.closed) {
      if (Date.now() - lastBeat >= hub.heartbeatMs) {
        let fresh: Caller | null | undefined;
        try {
          fresh = await hub.reauthenticate(opts);
        } catch (err) {
          // The database is briefly unreachable: keep the stream, check again next beat.
          hub.log?.warn({ err }, "change feed: could not re-check a token");
        }
        if (fresh === null)
          throw unauthenticated("the token of this event stream was revoked or its principal disabled");
        if (fresh) principal = fresh;
        lastBeat = Date.now();
        yield HEARTBEAT;
        continue;
      }
      if (sub.cursor < hub.head()) {
        if (hub.head() - sub.cursor > hub.maxLag) {
          hub.close(sub, slowConsumer(hub.maxLag));
          break;
        }
        const batch = await hub.after(sub.cursor, 256);
        if (batch.length === 0) {
          // Everything between the cursor and the head was purged meanwhile.
          const requested = sub.cursor;
          sub.cursor = hub.head();
          yield reset(sub.cursor, requested, null, "events were purged while this stream replayed them");
          continue;
        }
        if (batch[0]!.event.id !== sub.cursor + 1) {
          const requested = sub.cursor;
          sub.cursor = batch[0]!.event.id - 1;
          yield reset(
            sub.cursor,
            requested,
            batch[0]!.event.id,
            "events were purged while this stream replayed them",
          );
        }
        for (const item of batch) {
          sub.cursor = item.event.id;
          if (opts.agentId && item.event.agent_id !== opts.agentId) continue;
          if (!canSee(principal, item.event.agent_id, item.readers)) continue;
          yield item.event;
          if (sub.closed) break;
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(1, hub.heartbeatMs - (Date.now() - lastBeat)));
        function done() {
          clearTimeout(timer);
          sub.wake = null;
          resolve();
        }
        sub.wake = done;
        if (sub.closed || sub.cursor < hub.head()) done();
      });
    }
    if (sub.closed === SHUTDOWN) throw new DomainError("unavailable", SHUTDOWN);
    if (sub.closed && sub.closed !== "aborted") throw new DomainError("too_many", sub.closed);
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    hub.detach(sub);
    release();
  }
}
