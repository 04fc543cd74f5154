/**
 * What every Postgres-only fault test shares: the skip (and why) when
 * DATABASE_URL is unset, and a scratch database per suite that outlives the
 * servers started on it.
 */
import type { DB } from "@agentex/db";
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll } from "vitest";
import { SECRET_KEY, directDb, scratchDatabase, type ServerProcess } from "../process.ts";
import { pollUntil } from "./replicas.ts";

export const DATABASE_URL = process.env.DATABASE_URL;

/** True, and says so on the console, when there is no Postgres to run `file` on. */
export function skipWithoutPostgres(file: string, toRun: string): boolean {
  if (!DATABASE_URL) console.warn(`[faults] ${file}: SKIPPED (set DATABASE_URL to ${toRun})`);
  return !DATABASE_URL;
}

export interface Scratch {
  readonly url: string;
  /** A direct pool on the scratch database, for checking what the servers wrote. */
  readonly db: Kysely<DB>;
  /** A server's environment on the scratch database; every server shares the secret. */
  env(extra?: Record<string, string>): Record<string, string>;
}

/**
 * A scratch database for the enclosing describe block. Registered first, its
 * afterAll runs last: it SIGKILLs whatever `servers()` still holds, then closes
 * the pool and drops the database.
 */
export function useScratchDatabase(servers: () => (ServerProcess | undefined)[]): Scratch {
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  let db: Kysely<DB> | undefined;
  beforeAll(async () => {
    scratch = await scratchDatabase(DATABASE_URL!);
    db = directDb(scratch.url);
  });
  afterAll(async () => {
    const live = servers().filter((s): s is ServerProcess => s !== undefined);
    for (const s of live) s.kill("SIGKILL");
    await Promise.all(live.map((s) => s.exited));
    await db?.destroy();
    await scratch?.drop();
  });
  return {
    get url() {
      return scratch!.url;
    },
    get db() {
      return db!;
    },
    env: (extra = {}) => ({ DATABASE_URL: scratch!.url, AGENTEX_SECRET_KEY: SECRET_KEY, ...extra }),
  };
}

/**
 * The deadlocks Postgres counted on the database at `url`, read from the admin
 * database once every session of it has ended (backends flush their
 * statistics when they exit); `sessionsGone` is false if some outlived 15 s.
 */
export async function deadlocksOnceIdle(url: string): Promise<{ sessionsGone: boolean; deadlocks: number }> {
  const name = new URL(url).pathname.slice(1);
  const admin = directDb(DATABASE_URL!);
  try {
    const sessionsGone = await pollUntil(async () => {
      const r = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_stat_activity where datname = ${name}`.execute(admin);
      return r.rows[0]!.n === 0;
    }, 15_000);
    const stats = await sql<{
      deadlocks: number;
    }>`select deadlocks::int as deadlocks from pg_stat_database where datname = ${name}`.execute(admin);
    return { sessionsGone, deadlocks: stats.rows[0]!.deadlocks };
  } finally {
    await admin.destroy();
  }
}
