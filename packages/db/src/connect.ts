import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { embeddedNotifier, postgresNotifier, type Notifier } from "./notify.ts";
import { PGliteDialect } from "./pglite-dialect.ts";
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

/** The pool's settings when a caller gives none; the server's configuration defaults to these. */
export const POOL_DEFAULTS = {
  max: 10,
  acquireTimeoutMs: 5_000,
  statementTimeoutMs: 15_000,
} as const;

export interface PostgresOptions {
  url: string;
  /** Connections per replica. */
  max?: number;
  /** How long a request may wait for a connection before failing fast. */
  acquireTimeoutMs?: number;
  /** A statement running longer than this is cancelled by the server. */
  statementTimeoutMs?: number;
  onPoolError?: (err: Error) => void;
}

// int8 comes back as a string from `pg` and a number from PGlite; counts and
// ids here stay far below 2^53, so both return numbers.
const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 20) return (value: string) => Number.parseInt(value, 10);
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

export function connectPostgres(opts: PostgresOptions): Database {
  const statementTimeoutMs = opts.statementTimeoutMs ?? POOL_DEFAULTS.statementTimeoutMs;
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? POOL_DEFAULTS.max,
    connectionTimeoutMillis: opts.acquireTimeoutMs ?? POOL_DEFAULTS.acquireTimeoutMs,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: statementTimeoutMs * 2,
    types: pgTypes,
  });
  // An idle client dropped by a Postgres restart must not crash the process.
  pool.on("error", (err) => opts.onPoolError?.(err));
  // The pool listens for errors only on idle clients. A checked-out client
  // that Postgres drops between two statements (restart, failover,
  // pg_terminate_backend) emits 'error' with no listener, which would crash
  // the process. Listen on every client for its whole life: the statement in
  // progress fails on its own (a 503), and the pool discards the broken client
  // when it is released.
  pool.on("connect", (client) => {
    client.on("error", (err) => opts.onPoolError?.(err));
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const notifier = postgresNotifier({
    url: opts.url,
    send: async (channel, payload) => {
      await pool.query("select pg_notify($1, $2)", [channel, payload]);
    },
    ...(opts.onPoolError ? { onError: opts.onPoolError } : {}),
  });
  return store(db, "postgres", notifier, () => ({
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
  }));
}

/**
 * PostgreSQL settings of the embedded store. initdb's default shared_buffers
 * (128 MB) is allocated and zeroed inside the WASM heap at every start, so it
 * was resident from the first second whether used or not; a registry's
 * working set is a few MB, and the OS page cache still holds the files.
 */
export const EMBEDDED_SETTINGS = ["-c", "shared_buffers=16MB"];

/** `dataDir` is a directory, or `memory://` for a store that lives and dies with the process. */
export async function connectEmbedded(
  dataDir: string,
  loadDataDir?: Blob,
): Promise<Database & { pglite: PGlite }> {
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir, {
    // Durable: every commit is flushed before the call returns.
    relaxedDurability: false,
    startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS],
    ...(loadDataDir ? { loadDataDir } : {}),
  });
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  // One process owns the embedded store: an in-process emitter is every replica there is.
  const notifier = embeddedNotifier();
  return { ...store(db, "embedded", notifier, () => ({ total: 1, idle: 1, waiting: 0 })), pglite };
}

/** A store of either kind: its Kysely instance, its notifier and its pool figures. */
function store(
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
