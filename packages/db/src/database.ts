import { sql, type Kysely } from "kysely";
import type { Notifier } from "./notify.ts";
import type { DB } from "./schema.ts";

export type StoreKind = "embedded" | "postgres";

export interface Database {
  db: Kysely<DB>;
  kind: StoreKind;
  /** Resolves when the database answers a trivial query within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** Pool figures for /metrics; the embedded store has one session. */
  poolStats(): { total: number; idle: number; waiting: number };
  /**
   * Calls `handler` with every payload NOTIFYed on `channel`, by any replica
   * (this one included). Postgres: one dedicated LISTEN connection per process,
   * reconnected after a restart; embedded: an in-process emitter. Resolves once
   * listening; the returned function unsubscribes.
   */
  subscribe(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  /** `pg_notify(channel, payload)`: reaches every subscriber on every replica (best effort, as NOTIFY is). */
  notify(channel: string, payload: string): Promise<void>;
  /** Changes whenever the LISTEN connection (re)connects; null while it is down (messages may be missed then). */
  listenerEpoch(): number | null;
  close(): Promise<void>;
}

/** A store of either kind: its Kysely instance, its notifier and its pool figures. */
export function store(
  db: Kysely<DB>,
  kind: StoreKind,
  notifier: Notifier,
  poolStats: Database["poolStats"],
): Database {
  return {
    db,
    kind,
    ping: (timeoutMs) => ping(db, timeoutMs),
    poolStats,
    subscribe: notifier.subscribe,
    notify: notifier.notify,
    listenerEpoch: notifier.epoch,
    close: async () => {
      await notifier.close();
      await db.destroy();
    },
  };
}

async function ping(db: Kysely<DB>, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("ping timed out")), timeoutMs);
    });
    await Promise.race([sql`select 1`.execute(db), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
