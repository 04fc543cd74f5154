import { EventEmitter } from 'node:events';
import pg from 'pg';

export type Unsubscribe = () => Promise<void>;

/** Cross-process (Postgres LISTEN/NOTIFY) or in-process (embedded) notifications. */
export interface Notifier {
  subscribe(channel: string, handler: (payload: string) => void): Promise<Unsubscribe>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string) {
  if (!CHANNEL.test(channel)) throw new Error(`invalid notification channel '${channel}'`);
}

/**
 * The embedded store is one process: notifications are an in-process emitter,
 * delivered asynchronously (never inside the caller's stack), like NOTIFY.
 */
export function inProcessNotifier(): Notifier {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async subscribe(channel, handler) {
      checkChannel(channel);
      const listener = (payload: string) => handler(payload);
      emitter.on(channel, listener);
      return async () => {
        emitter.off(channel, listener);
      };
    },
    async notify(channel, payload) {
      checkChannel(channel);
      setImmediate(() => emitter.emit(channel, payload));
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/**
 * One dedicated connection per process LISTENs on every channel anyone
 * subscribed to. When Postgres drops it (restart, failover), it reconnects
 * with backoff and LISTENs again; notifications sent meanwhile are lost, so
 * subscribers must treat a notification as a wake-up and re-read state
 * (`onReconnect` handlers run after each re-LISTEN for that purpose).
 * NOTIFY goes through the ordinary pool.
 */
export function postgresNotifier(opts: {
  url: string;
  pool: pg.Pool;
  onError?: (err: Error) => void;
  /** Called after a reconnect re-LISTENed: anything sent while down was missed. */
  onReconnect?: () => void;
}): Notifier {
  const handlers = new Map<string, Set<(payload: string) => void>>();
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let closed = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let everConnected = false;

  const dispatch = (msg: pg.Notification) => {
    for (const handler of handlers.get(msg.channel) ?? []) {
      try {
        handler(msg.payload ?? '');
      } catch (err) {
        opts.onError?.(err as Error);
      }
    }
  };

  const scheduleReconnect = (delayMs: number) => {
    if (closed || retryTimer || handlers.size === 0) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect().catch(() => scheduleReconnect(Math.min(delayMs * 2, 5_000)));
    }, delayMs);
    retryTimer.unref();
  };

  const connect = (): Promise<pg.Client> => {
    if (client) return Promise.resolve(client);
    if (connecting) return connecting;
    connecting = (async () => {
      const c = new pg.Client({ connectionString: opts.url, keepAlive: true });
      c.on('notification', dispatch);
      const lost = (err?: Error) => {
        if (err) opts.onError?.(err);
        if (client === c) client = null;
        c.removeAllListeners('notification');
        void c.end().catch(() => {});
        scheduleReconnect(100);
      };
      c.on('error', lost);
      c.on('end', () => lost());
      try {
        await c.connect();
        for (const channel of handlers.keys()) await c.query(`LISTEN ${channel}`);
      } catch (err) {
        c.removeAllListeners();
        c.on('error', () => {});
        void c.end().catch(() => {});
        throw err;
      }
      if (closed) {
        await c.end().catch(() => {});
        throw new Error('notifier closed');
      }
      client = c;
      if (everConnected) opts.onReconnect?.();
      everConnected = true;
      return c;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  };

  return {
    async subscribe(channel, handler) {
      checkChannel(channel);
      let set = handlers.get(channel);
      const first = !set;
      if (!set) handlers.set(channel, (set = new Set()));
      set.add(handler);
      try {
        const c = await connect();
        if (first) await c.query(`LISTEN ${channel}`);
      } catch (err) {
        // Not connected now: the reconnect loop LISTENs when Postgres is back.
        opts.onError?.(err as Error);
        scheduleReconnect(100);
      }
      return async () => {
        const current = handlers.get(channel);
        if (!current) return;
        current.delete(handler);
        if (current.size > 0) return;
        handlers.delete(channel);
        await client?.query(`UNLISTEN ${channel}`).catch(() => {});
      };
    },
    async notify(channel, payload) {
      checkChannel(channel);
      await opts.pool.query('select pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = client ?? (connecting ? await connecting.catch(() => null) : null);
      client = null;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => {});
        await c.end().catch(() => {});
      }
    },
  };
}
