import type { Kysely, Transaction } from "kysely";

const RETRYABLE = new Set(["40001", "40P01"]); // serialization_failure, deadlock_detected

function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

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
export function isRetryable(err: unknown): boolean {
  return RETRYABLE.has(pgCode(err) ?? "");
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (pgCode(err) !== "23505") return false;
  return constraint === undefined || (err as { constraint?: string }).constraint === constraint;
}

/** True for failures that mean "the database is unreachable right now", not "this request is wrong". */
export function isConnectionError(err: unknown): boolean {
  const code = pgCode(err);
  if (code && (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03"))
    return true;
  if (
    code &&
    ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"].includes(code)
  )
    return true;
  const message = err instanceof Error ? err.message : "";
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i.test(
    message,
  );
}
