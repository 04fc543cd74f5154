import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { store, type Database } from "./database.ts";
import { postgresNotifier } from "./notify.ts";
import type { DB } from "./schema.ts";

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
