import type { DB, Kysely } from "@agentex/db";
import {
  DomainError,
  type HEARTBEAT,
  eventsAfter,
  lastEventId,
  oldestEventId,
  type ChangeEvent,
  type Caller,
  type ChangeFeed,
  type Logger,
  type WatchOptions,
} from "@agentex/core";
import type { Worker } from "../worker.ts";
import { EventRing, stored, type Stored } from "./ring.ts";
import { SHUTDOWN, slowConsumer, subscriberStream, type FeedSource, type Subscriber } from "./subscriber.ts";

/** The NOTIFY channel: payload is the last committed event id, nothing else. */
export const FEED_CHANNEL = "agentex_events";

export interface FeedOptions {
  db: Kysely<DB>;
  /** `Database.subscribe`: cross-replica wake-ups (LISTEN/NOTIFY, or in process). */
  subscribe(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
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

/**
 * One per replica, a per-replica worker (no lease): every replica serves its
 * own subscribers, so every replica reads the outbox. Reads it once for all
 * its subscribers (woken by NOTIFY from any replica, with a slow poll, its
 * tick, as a safety net), keeps the recent events in a bounded ring, and
 * serves each subscriber from its own cursor: from the ring while it keeps
 * up, from the database while it replays. Events reach subscribers in id
 * order, which is commit order. Halting ends every open stream with a hint to
 * reconnect and resume elsewhere. The outbox's retention is another worker's
 * (event-retention.ts), a singleton.
 */
export class FeedHub implements ChangeFeed, Worker {
  readonly name = "feed";
  readonly intervalMs: number;
  private readonly ring: EventRing;
  private refreshing: Promise<void> | null = null;
  private again = false;
  private readonly subs = new Set<Subscriber>();
  private readonly perPrincipal = new Map<string, number>();
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly recheck = new Map<string, { at: number; result: Promise<Caller | null> }>();
  private readonly source: FeedSource;

  constructor(private readonly opts: FeedOptions) {
    this.intervalMs = opts.pollMs;
    this.ring = new EventRing(opts.ringSize ?? 4096);
    this.source = {
      head: () => this.ring.head,
      ringStart: () => this.ring.first,
      heartbeatMs: opts.heartbeatMs,
      maxLag: opts.maxLag,
      log: opts.log,
      refresh: () => this.refresh(),
      after: (cursor, limit) => this.after(cursor, limit),
      oldest: () => oldestEventId(opts.db),
      reauthenticate: (watch) => this.reauthenticate(watch),
      attach: (sub) => void this.subs.add(sub),
      detach: (sub) => void this.subs.delete(sub),
      close: (sub, reason) => this.close(sub, reason),
    };
  }

  async start(): Promise<void> {
    this.ring.head = await lastEventId(this.opts.db);
    // refresh() never rejects (a failed read is logged and retried at the next poll): nothing waits for it here.
    this.unsubscribe = await this.opts.subscribe(FEED_CHANNEL, (payload) => {
      const id = Number(payload);
      if (!Number.isFinite(id) || id > this.ring.head) void this.refresh();
    });
  }

  /** The fallback poll. */
  tick(): Promise<void> {
    return this.refresh();
  }

  /** Ends every open stream (they tell their clients to reconnect elsewhere); returns at once. */
  halt(): void {
    for (const sub of this.subs) this.close(sub, SHUTDOWN);
  }

  async stop(): Promise<void> {
    this.halt();
    const off = this.unsubscribe;
    this.unsubscribe = null;
    await off?.();
    await this.refreshing;
  }

  /** Announces a commit made by this process (saves the round trip through NOTIFY for local subscribers). */
  committed(lastId: number): void {
    if (lastId > this.ring.head) void this.refresh(); // never rejects; subscribers hear of the events when it ends
  }

  /** Reads every committed event past the head into the ring; single-flight, re-run if woken meanwhile. Never rejects (a failed read is logged). */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        for (;;) {
          const rows = await eventsAfter(this.opts.db, this.ring.head, 1_000);
          if (rows.length === 0) break;
          for (const row of rows) this.ring.append(row);
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

  private dispatch() {
    for (const sub of this.subs) {
      if (sub.closed) continue;
      if (this.ring.head - sub.cursor > this.opts.maxLag) {
        this.close(sub, slowConsumer(this.opts.maxLag));
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
    const held = this.ring.after(cursor, limit);
    if (held) return held;
    return (await eventsAfter(this.opts.db, cursor, limit)).map(stored);
  }

  /**
   * The stream of one subscriber (feed/subscriber.ts). The per-principal cap
   * is checked now, before any byte is sent, so REST can answer a real 429.
   */
  watch(opts: WatchOptions): AsyncGenerator<ChangeEvent | typeof HEARTBEAT> {
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
    const inner = subscriberStream(this.source, opts, release);
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

  /** Open subscriptions on this replica (for tests and metrics). */
  get size(): number {
    return this.subs.size;
  }
}
