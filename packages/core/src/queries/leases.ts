import type { DB, Kysely } from "@agentex/db";
import { sql, type SelectQueryBuilder } from "kysely";

/**
 * Exclusive work across replicas, in two shapes, both by the database's clock
 * and both made of single statements or row locks that end with their
 * transaction (nothing here lives on a session: no advisory lock, no SET, no
 * LISTEN), so they hold the same through a transaction-mode pooler and on the
 * embedded store.
 *
 * - A named lease (`worker_leases`): one row per singleton job. Taken when
 *   free or expired, renewed by its owner, deleted by its owner when it stops.
 * - Row leases: a table whose rows are work items carries an owner column and
 *   an expiry column; replicas claim free rows with FOR UPDATE SKIP LOCKED (so
 *   they claim side by side without waiting on each other) and the claim keeps
 *   every other replica off the row until it is released or expires.
 *
 * Either way a dead replica's work is taken over once its expiry passes, and
 * a replica that releases hands it over at once.
 */

/** `ms` from now by the database's clock. */
export const fromNow = (ms: number) => sql<Date>`now() + make_interval(secs => ${ms / 1000})`;

// ---------------------------------------------------------------- named leases

export interface LeaseRequest {
  name: string;
  /** The replica's identity. */
  owner: string;
  /** A readable name of the replica (host and pid) for whoever reads the table. */
  holder: string;
  ttlMs: number;
}

export interface HeldLease {
  name: string;
  owner: string;
  holder: string;
  acquired_at: Date;
  expires_at: Date;
}

/**
 * Takes the lease `name` for `owner` until `ttlMs` from now, or extends it
 * when `owner` already holds it. Null when another owner's lease has not yet
 * expired. One statement: concurrent callers queue on the row (or on the
 * unique key, when there is no row yet), and the one that finds it free or
 * expired wins; the others then find it live.
 */
export async function acquireLease(db: Kysely<DB>, r: LeaseRequest): Promise<HeldLease | null> {
  const row = await db
    .insertInto("worker_leases")
    .values({
      name: r.name,
      owner: r.owner,
      holder: r.holder,
      acquired_at: sql<Date>`now()`,
      expires_at: fromNow(r.ttlMs),
    })
    .onConflict((oc) =>
      oc
        .column("name")
        .doUpdateSet({
          owner: (eb) => eb.ref("excluded.owner"),
          holder: (eb) => eb.ref("excluded.holder"),
          expires_at: (eb) => eb.ref("excluded.expires_at"),
          // A renewal keeps the time the owner first took it.
          acquired_at: sql<Date>`case when worker_leases.owner = excluded.owner
            then worker_leases.acquired_at else excluded.acquired_at end`,
        })
        .where(sql<boolean>`worker_leases.owner = excluded.owner or worker_leases.expires_at <= now()`),
    )
    .returning(["name", "owner", "holder", "acquired_at", "expires_at"])
    .executeTakeFirst();
  return row ?? null;
}

/** Gives the lease up if `owner` holds it (whether or not it has expired); true if it did. */
export async function releaseLease(db: Kysely<DB>, name: string, owner: string): Promise<boolean> {
  const result = await db
    .deleteFrom("worker_leases")
    .where("name", "=", name)
    .where("owner", "=", owner)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The lease `name` while it is live (not expired), else null. */
export async function liveLease(db: Kysely<DB>, name: string): Promise<HeldLease | null> {
  const row = await db
    .selectFrom("worker_leases")
    .select(["name", "owner", "holder", "acquired_at", "expires_at"])
    .where("name", "=", name)
    .where(sql<boolean>`expires_at > now()`)
    .executeTakeFirst();
  return row ?? null;
}

// ---------------------------------------------------------------- row leases

type Column<T extends keyof DB> = keyof DB[T] & string;

/** A table whose rows are claimed one by one: the column naming the owner and the one holding the expiry. */
export interface RowLease<T extends keyof DB> {
  table: T;
  owner: Column<T>;
  until: Column<T>;
}

/** A row whose claim is free: never claimed, released, or expired. */
export const unclaimed = (until: string) =>
  sql<boolean>`(${sql.ref(until)} is null or ${sql.ref(until)} < now())`;

/**
 * Narrows a candidate query (in the caller's order) to its first `limit`
 * unclaimed rows, locked; rows another replica is claiming at this moment
 * are skipped, not waited for. The caller's UPDATE then writes its claim
 * (`owner`, and `until` = `fromNow(ms)`) in the same statement.
 */
export function claimable(until: string, limit: number) {
  return <D, T extends keyof D, O>(qb: SelectQueryBuilder<D, T, O>) =>
    qb.where(unclaimed(until)).limit(limit).forUpdate().skipLocked();
}

/** Frees every row of `lease.table` that `owner` has claimed; returns how many. */
export async function releaseRowLeases<T extends keyof DB>(
  db: Kysely<DB>,
  lease: RowLease<T>,
  owner: string,
): Promise<number> {
  const result = await sql`update ${sql.table(lease.table)}
    set ${sql.ref(lease.owner)} = null, ${sql.ref(lease.until)} = null
    where ${sql.ref(lease.owner)} = ${owner}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
