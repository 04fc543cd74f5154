import { EventEmitter } from "node:events";
import pg from "pg";

/**
 * Cross-replica signals over Postgres LISTEN/NOTIFY (and an in-process emitter
 * for the embedded store, which is one process). Delivery is best-effort, as
 * NOTIFY is: a message sent while a replica's listener is reconnecting is lost
 * to it. `epoch()` lets a consumer that caches notice that: it changes at every
 * (re)connect and is null while the listener is down.
 */
export interface Notifier {
  /** Calls `handler` with each payload sent on `channel` (from any replica, this one included). Resolves once listening. */
  subscribe: (channel: string, handler: (payload: string) => void) => Promise<() => Promise<void>>;
  /** Sends `payload` (≤ 7999 bytes) to every subscriber of `channel` on every replica. */
  notify: (channel: string, payload: string) => Promise<void>;
  /** A number that changes whenever the listener (re)connects; null while it is down. */
  epoch: () => number | null;
  close: () => Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string) {
  if (!CHANNEL.test(channel)) throw new Error(`invalid notification channel name: ${channel}`);
}

/** Runs `fn` now; its result, or what it throws, as a promise (as an async function would). */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}

export function embeddedNotifier(): Notifier {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    subscribe: (channel, handler) =>
      settle(() => {
        checkChannel(channel);
        const listener = (payload: string) => handler(payload);
        emitter.on(channel, listener);
        return () => settle(() => void emitter.off(channel, listener));
      }),
    notify: (channel, payload) =>
      settle(() => {
        checkChannel(channel);
        emitter.emit(channel, payload);
      }),
    epoch: () => 0,
    close: () => settle(() => void emitter.removeAllListeners()),
  };
}

/**
 * One dedicated connection per process LISTENs on every subscribed channel
 * (opened on the first subscribe). When Postgres drops it (restart, failover)
 * it reconnects with backoff and LISTENs again; notifications go through the
 * ordinary pool.
 */
export function postgresNotifier(opts: {
  url: string;
  send: (channel: string, payload: string) => Promise<void>;
  onError?: (err: Error) => void;
}): Notifier {
  const handlers = new Map<string, Set<(payload: string) => void>>();
  let client: pg.Client | null = null;
  let connecting: Promise<void> | null = null;
  let epoch: number | null = null;
  let generation = 0;
  let closed = false;
  let retryTimer: NodeJS.Timeout | null = null;

  const dispatch = (msg: pg.Notification) => {
    for (const h of handlers.get(msg.channel) ?? []) {
      try {
        h(msg.payload ?? "");
      } catch (err) {
        opts.onError?.(err as Error);
      }
    }
  };

  const scheduleReconnect = (delayMs: number) => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect().catch(() => scheduleReconnect(Math.min(delayMs * 2, 2_000)));
    }, delayMs);
    retryTimer.unref();
  };

  const connect = (): Promise<void> => {
    if (connecting) return connecting;
    connecting = (async () => {
      const c = new pg.Client({ connectionString: opts.url });
      const lost = (err?: Error) => {
        if (client !== c) return;
        client = null;
        epoch = null;
        if (err) opts.onError?.(err);
        c.end().catch(() => {});
        scheduleReconnect(50);
      };
      c.on("error", lost);
      c.on("end", () => lost());
      c.on("notification", dispatch);
      try {
        await c.connect();
        for (const channel of handlers.keys()) await c.query(`listen ${channel}`);
      } catch (err) {
        c.removeAllListeners("end");
        c.end().catch(() => {});
        throw err;
      }
      if (closed) {
        await c.end().catch(() => {});
        return;
      }
      client = c;
      epoch = ++generation;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  };

  return {
    async subscribe(channel, handler) {
      checkChannel(channel);
      let set = handlers.get(channel);
      const fresh = !set;
      if (!set) handlers.set(channel, (set = new Set()));
      set.add(handler);
      if (!client) {
        try {
          await connect();
        } catch (err) {
          scheduleReconnect(50);
          throw err;
        }
      } else if (fresh) await client.query(`listen ${channel}`);
      return async () => {
        set.delete(handler);
        if (set.size === 0 && handlers.get(channel) === set) {
          handlers.delete(channel);
          await client?.query(`unlisten ${channel}`).catch(() => {});
        }
      };
    },
    async notify(channel, payload) {
      checkChannel(channel);
      await opts.send(channel, payload);
    },
    epoch: () => epoch,
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await connecting?.catch(() => {});
      const c = client;
      client = null;
      epoch = null;
      handlers.clear();
      await c?.end().catch(() => {});
    },
  };
}
