import type { DB, EventRow, Kysely } from "@agentex/db";
import {
  DomainError,
  HEARTBEAT,
  canSee,
  eventsAfter,
  lastEventId,
  oldestEventId,
  purgeEvents,
  toChangeEvent,
  unauthenticated,
  type ChangeEvent,
  type Caller,
  type ChangeFeed,
  type Logger,
  type WatchOptions,
} from "@agentex/core";

/** The NOTIFY channel: payload is the last committed event id, nothing else. */
export const FEED_CHANNEL = "agentex_events";

export interface FeedOptions {
  db: Kysely<DB>;
  /** `Database.subscribe`: cross-replica wake-ups (LISTEN/NOTIFY, or in process). */
  subscribe(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  /** How long events are kept for resuming (older ones are purged). */
  retentionMs: number;
  /** A subscriber further behind the newest event than this is disconnected (its queue bound). */
  maxLag: number;
  /** Open subscriptions per principal on this replica; more is a 429. */
  maxPerPrincipal: number;
  /** Keep-alive and re-authentication interval of each subscription. */
  heartbeatMs: number;
  /** Fallback poll of the outbox, for wake-ups lost while the listener reconnected. */
  pollMs: number;
  /** Recent events kept in memory and shared by all subscribers. */
  ringSize?: number;
  log?: Logger;
}

interface Stored {
  event: ChangeEvent;
  readers: ReadonlySet<string>;
}

interface Subscriber {
  principalId: string;
  cursor: number;
  closed: string | null;
  wake: (() => void) | null;
  abort: (() => void) | null;
}

const SHUTDOWN = "the server is shutting down; reconnect with Last-Event-ID to resume";

/**
 * One per process. Reads the outbox once for all its subscribers (woken by
 * NOTIFY from any replica, with a slow poll as a safety net), keeps the recent
 * events in a bounded ring, and serves each subscriber from its own cursor:
 * from the ring while it keeps up, from the database while it replays. Events
 * reach subscribers in id order, which is commit order.
 */
export class FeedHub implements ChangeFeed {
  private head = 0;
  private ring: Stored[] = [];
  private refreshing: Promise<void> | null = null;
  private again = false;
  private readonly subs = new Set<Subscriber>();
  private readonly perPrincipal = new Map<string, number>();
  private unsubscribe: (() => Promise<void>) | null = null;
  private timers: NodeJS.Timeout[] = [];
  private readonly ringSize: number;
  private readonly recheck = new Map<string, { at: number; result: Promise<Caller | null> }>();

  constructor(private readonly opts: FeedOptions) {
    this.ringSize = opts.ringSize ?? 4096;
  }

  async start(): Promise<void> {
    this.head = await lastEventId(this.opts.db);
    // refresh() never rejects (a failed read is logged and retried at the next poll): nothing waits for it here.
    this.unsubscribe = await this.opts.subscribe(FEED_CHANNEL, (payload) => {
      const id = Number(payload);
      if (!Number.isFinite(id) || id > this.head) void this.refresh();
    });
    const poll = setInterval(() => void this.refresh(), this.opts.pollMs);
    const purge = setInterval(
      () => void this.purge(),
      Math.max(1_000, Math.min(60_000, this.opts.retentionMs / 10)),
    );
    poll.unref();
    purge.unref();
    this.timers.push(poll, purge);
  }

  /** Ends every open stream (they tell their clients to reconnect elsewhere); returns at once. */
  endStreams(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const sub of this.subs) this.close(sub, SHUTDOWN);
  }

  async stop(): Promise<void> {
    this.endStreams();
    await this.unsubscribe?.();
    await this.refreshing?.catch(() => {});
  }

  /** Announces a commit made by this process (saves the round trip through NOTIFY for local subscribers). */
  committed(lastId: number): void {
    if (lastId > this.head) void this.refresh(); // never rejects; subscribers hear of the events when it ends
  }

  async purge(): Promise<number> {
    try {
      return await purgeEvents(this.opts.db, this.opts.retentionMs);
    } catch (err) {
      this.opts.log?.warn({ err }, "change feed: purge failed");
      return 0;
    }
  }

  /** Reads every committed event past the head into the ring; single-flight, re-run if woken meanwhile. */
  /** Reads new events into the streams; never rejects (a failed read is logged). */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        for (;;) {
          const rows = await eventsAfter(this.opts.db, this.head, 1_000);
          if (rows.length === 0) break;
          for (const row of rows) this.append(row);
          if (rows.length < 1_000) break;
        }
      } while (this.again);
    })()
      .catch((err: unknown) => this.opts.log?.warn({ err }, "change feed: could not read new events"))
      .finally(() => {
        this.refreshing = null;
        this.dispatch();
      });
    return this.refreshing;
  }

  private append(row: EventRow) {
    const id = Number(row.id);
    if (id <= this.head) return;
    // A jump (purged or first read after a gap) restarts the ring: it must stay contiguous.
    if (id !== this.head + 1) this.ring = [];
    this.ring.push({ event: toChangeEvent(row), readers: new Set(row.readers) });
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    this.head = id;
  }

  private dispatch() {
    for (const sub of this.subs) {
      if (sub.closed) continue;
      if (this.head - sub.cursor > this.opts.maxLag) {
        this.close(
          sub,
          `slow consumer: more than ${this.opts.maxLag} events behind; reconnect with Last-Event-ID to resume`,
        );
        sub.abort?.();
        continue;
      }
      sub.wake?.();
    }
  }

  private close(sub: Subscriber, reason: string) {
    if (sub.closed) return;
    sub.closed = reason;
    sub.wake?.();
  }

  /** One re-check per credential per half heartbeat, however many streams it has open. */
  private reauthenticate(opts: WatchOptions): Promise<Caller | null> {
    if (!opts.authKey) return opts.reauthenticate();
    const now = Date.now();
    const cached = this.recheck.get(opts.authKey);
    if (cached && now - cached.at < this.opts.heartbeatMs / 2) return cached.result;
    const result = opts.reauthenticate();
    this.recheck.set(opts.authKey, { at: now, result });
    result.catch(() => this.recheck.delete(opts.authKey!));
    if (this.recheck.size > 10_000) this.recheck.clear();
    return result;
  }

  /** Events after `cursor`: from the ring when it holds them, else from the database. */
  private async after(cursor: number, limit: number): Promise<Stored[]> {
    const first = this.ring[0]?.event.id;
    if (first !== undefined && cursor + 1 >= first) {
      const from = cursor + 1 - first;
      return this.ring.slice(from, from + limit);
    }
    const rows = await eventsAfter(this.opts.db, cursor, limit);
    return rows.map((row) => ({ event: toChangeEvent(row), readers: new Set(row.readers) }));
  }

  private reset(cursor: number, requested: number, oldest: number | null, why: string): ChangeEvent {
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
  watch(opts: WatchOptions): AsyncGenerator<ChangeEvent | typeof HEARTBEAT> {
    // The cap is checked now, before any byte is sent, so REST can answer a real 429.
    const id = opts.principal.id;
    const count = this.perPrincipal.get(id) ?? 0;
    if (count >= this.opts.maxPerPrincipal) {
      throw new DomainError(
        "too_many",
        `at most ${this.opts.maxPerPrincipal} open event streams per principal on this server; close one first`,
      );
    }
    this.perPrincipal.set(id, count + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (this.perPrincipal.get(id) ?? 1) - 1;
      if (n <= 0) this.perPrincipal.delete(id);
      else this.perPrincipal.set(id, n);
    };
    const inner = this.stream(opts, release);
    // return() on a generator that never started skips its finally: release here too.
    const outer: AsyncGenerator<ChangeEvent | typeof HEARTBEAT> = {
      next: (...args) => inner.next(...args),
      return: async (value) => {
        try {
          return await inner.return(value);
        } finally {
          release();
        }
      },
      throw: async (err) => {
        try {
          return await inner.throw(err);
        } finally {
          release();
        }
      },
      [Symbol.asyncIterator]() {
        return outer;
      },
    };
    return outer;
  }

  private async *stream(
    opts: WatchOptions,
    release: () => void,
  ): AsyncGenerator<ChangeEvent | typeof HEARTBEAT> {
    let principal = opts.principal;
    const sub: Subscriber = {
      principalId: principal.id,
      cursor: this.head,
      closed: null,
      wake: null,
      abort: opts.abortConnection ?? null,
    };
    this.subs.add(sub);
    const onAbort = () => this.close(sub, "aborted");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (opts.lastEventId === undefined || opts.lastEventId === null) {
        // Start after everything committed so far, not after what this replica happened to read.
        await this.refresh();
        sub.cursor = this.head;
      } else {
        const requested: number = opts.lastEventId;
        if (requested > this.head) await this.refresh();
        if (requested > this.head) {
          yield this.reset(
            this.head,
            requested,
            null,
            `event ${requested} does not exist (the newest is ${this.head})`,
          );
        } else {
          sub.cursor = requested;
          const first = this.ring[0]?.event.id;
          if (requested < this.head && (first === undefined || requested + 1 < first)) {
            const oldest = await oldestEventId(this.opts.db);
            if (oldest === null || oldest > requested + 1) {
              sub.cursor = this.head;
              yield this.reset(
                this.head,
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
        if (Date.now() - lastBeat >= this.opts.heartbeatMs) {
          let fresh: Caller | null | undefined;
          try {
            fresh = await this.reauthenticate(opts);
          } catch (err) {
            // The database is briefly unreachable: keep the stream, check again next beat.
            this.opts.log?.warn({ err }, "change feed: could not re-check a token");
          }
          if (fresh === null)
            throw unauthenticated("the token of this event stream was revoked or its principal disabled");
          if (fresh) principal = fresh;
          lastBeat = Date.now();
          yield HEARTBEAT;
          continue;
        }
        if (sub.cursor < this.head) {
          if (this.head - sub.cursor > this.opts.maxLag) {
            this.close(
              sub,
              `slow consumer: more than ${this.opts.maxLag} events behind; reconnect with Last-Event-ID to resume`,
            );
            break;
          }
          const batch = await this.after(sub.cursor, 256);
          if (batch.length === 0) {
            // Everything between the cursor and the head was purged meanwhile.
            const requested = sub.cursor;
            sub.cursor = this.head;
            yield this.reset(
              sub.cursor,
              requested,
              null,
              "events were purged while this stream replayed them",
            );
            continue;
          }
          if (batch[0]!.event.id !== sub.cursor + 1) {
            const requested = sub.cursor;
            sub.cursor = batch[0]!.event.id - 1;
            yield this.reset(
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
          const timer = setTimeout(done, Math.max(1, this.opts.heartbeatMs - (Date.now() - lastBeat)));
          function done() {
            clearTimeout(timer);
            sub.wake = null;
            resolve();
          }
          sub.wake = done;
          if (sub.closed || sub.cursor < this.head) done();
        });
      }
      if (sub.closed === SHUTDOWN) throw new DomainError("unavailable", SHUTDOWN);
      if (sub.closed && sub.closed !== "aborted") throw new DomainError("too_many", sub.closed);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      this.subs.delete(sub);
      release();
    }
  }

  /** Open subscriptions on this replica (for tests and metrics). */
  get size(): number {
    return this.subs.size;
  }
}
