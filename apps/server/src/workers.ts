import { type LifecycleEvents } from "@agentex/core";
import type { Database } from "@agentex/db";
import {
  AuthCache,
  EventRetention,
  FEED_CHANNEL,
  FeedHub,
  HealthChecker,
  Workers,
  type AuthCacheOptions,
} from "@agentex/workers";
import type { FastifyInstance } from "fastify";
import { DEFAULTS, type EventsConfig, type HealthConfig } from "./config.ts";

export interface WorkerOptions {
  database: Database;
  /** Change feed limits, each one that is unset from `DEFAULTS.events`. */
  feed?: Partial<EventsConfig> | undefined;
  /** Off when null. */
  health: HealthConfig | null;
  /** `false`: no cache, every call asks the database. */
  authCache?: Pick<AuthCacheOptions, "max" | "ttlMs"> | false | undefined;
  /** Where lifecycle events go besides the change feed (metrics, the host's own hooks). */
  sinks: Array<LifecycleEvents | undefined>;
  /** A close of the server, the drain and then the workers' stop, fits in this. */
  shutdownTimeoutMs: number;
}

export interface ServerWorkers {
  runner: Workers;
  feed: FeedHub;
  auth: AuthCache | null;
  /** The lifecycle hooks the router calls: the sinks, and the change feed's wake-ups. */
  events: LifecycleEvents;
}

/**
 * The replica's workers on one runner, started in this order and stopped in
 * the reverse: the auth cache's invalidation listener and the change-feed hub
 * (per replica: each serves its own cache and its own subscribers), the
 * outbox retention purge (a singleton under a named lease), the health
 * checker (per replica, sharing the targets out by row leases). Closing the
 * server halts them all before it waits for its connections (open event
 * streams end with a hint to reconnect, no new probe starts), and stops them,
 * releasing their leases, once the in-flight requests are done.
 */
export async function installWorkers(app: FastifyInstance, opts: WorkerOptions): Promise<ServerWorkers> {
  const { database } = opts;
  const runner = new Workers({
    db: database.db,
    subscribe: (channel, handler) => database.subscribe(channel, handler),
    notify: (channel, payload) => database.notify(channel, payload),
    log: app.log,
  });

  const auth =
    opts.authCache === false
      ? null
      : new AuthCache(database, {
          ...opts.authCache,
          onError: (err) => app.log.warn({ err }, "auth cache: invalidation channel"),
        });
  if (auth) runner.add(auth);

  // The change feed: every replica reads the outbox when any replica NOTIFYs a commit.
  const limits = opts.feed ?? {};
  const feed = new FeedHub({
    db: database.db,
    subscribe: (channel, handler) => database.subscribe(channel, handler),
    maxLag: limits.maxLag ?? DEFAULTS.events.maxLag,
    maxPerPrincipal: limits.maxPerPrincipal ?? DEFAULTS.events.maxPerPrincipal,
    heartbeatMs: limits.heartbeatMs ?? DEFAULTS.events.heartbeatMs,
    pollMs: limits.pollMs ?? DEFAULTS.events.pollMs,
    log: app.log,
  });
  runner.add(feed);
  runner.add(
    new EventRetention({ db: database.db, retentionMs: limits.retentionMs ?? DEFAULTS.events.retentionMs }),
  );

  const announce = (lastEventId: number) => {
    feed.committed(lastEventId);
    database.notify(FEED_CHANNEL, String(lastEventId)).catch((err: unknown) => {
      // Other replicas still pick the event up at their next poll.
      app.log.warn({ err }, "change feed: NOTIFY failed");
    });
  };
  const events: LifecycleEvents = {
    onEvent(event) {
      for (const sink of opts.sinks) sink?.onEvent?.(event);
    },
    onFeed(lastEventId) {
      announce(lastEventId);
      for (const sink of opts.sinks) sink?.onFeed?.(lastEventId);
    },
  };

  if (opts.health) {
    runner.add(
      new HealthChecker({
        db: database.db,
        ...opts.health,
        owner: runner.owner,
        log: app.log,
        onChange: (lastEventId) => {
          events.onEvent?.("health_changed");
          events.onFeed?.(lastEventId);
        },
      }),
    );
  }

  await runner.start();
  let closingAt: number | null = null;
  // Nothing here waits on the database, so a probe stuck behind a row lock cannot hold the listener open.
  app.addHook("preClose", (done) => {
    closingAt = Date.now();
    runner.halt();
    done();
  });
  // What the drain left of the shutdown time, less a reserve for closing the store and exiting.
  app.addHook("onClose", async () => {
    const reserve = Math.min(1_000, opts.shutdownTimeoutMs / 5);
    await runner.stop((closingAt ?? Date.now()) + opts.shutdownTimeoutMs - reserve);
  });
  return { runner, feed, auth, events };
}
