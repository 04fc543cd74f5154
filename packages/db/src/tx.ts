import { sql, type Kysely, type Transaction } from "kysely";
import { pgCode } from "./errors.ts";

const RETRYABLE = new Set(["40001", "40P01"]); // serialization_failure, deadlock_detected

/**
 * Runs `fn` in a transaction, retrying a bounded number of times when Postgres
 * aborts it for a serialization failure or deadlock (lock order makes the
 * latter impossible in this codebase; the retry is the safety net).
 *
 * Called with a transaction (an idempotent request runs its whole mutation in
 * one), `fn` joins it: the outer transaction commits, and retries, the whole.
 */
export async function withTransaction<DB, T>(
  db: Kysely<DB>,
  fn: (trx: Transaction<DB>) => Promise<T>,
  attempts = 4,
): Promise<T> {
  if (db.isTransaction) return fn(db as Transaction<DB>);
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      if (attempt >= attempts || !RETRYABLE.has(pgCode(err) ?? "")) throw err;
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
    }
  }
}

/** A serialization failure or deadlock: the whole transaction may be retried. */
export function isRetryable(err: unknown): err is Error {
  return err instanceof Error && RETRYABLE.has(pgCode(err) ?? "");
}

/**
 * A savepoint in an open transaction: `rollback()` undoes only what ran after
 * it and keeps the transaction (and what ran before) alive.
 */
export async function savepoint<DB>(
  trx: Transaction<DB>,
  name: string,
): Promise<{ rollback(): Promise<void> }> {
  await sql`savepoint ${sql.id(name)}`.execute(trx);
  return {
    rollback: async () => {
      await sql`rollback to savepoint ${sql.id(name)}`.execute(trx);
    },
  };
}
