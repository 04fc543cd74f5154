import { sql, type Kysely, type Transaction } from "kysely";
import { pgCode } from "./errors.ts";

const RETRYABLE = new Set(["40001", "40P01"]); // serialization_failure, deadlock_detected

/** Work that must wait until a change is durable and visible to every connection. */
export type AfterCommit = () => void | Promise<void>;

/**
 * The after-commit hooks of each open transaction that withTransaction began,
 * by its Transaction object: nested calls join that transaction, so they find
 * (and append to) the outermost one's list.
 */
const hooksOf = new WeakMap<object, AfterCommit[]>();

/**
 * Runs `fn` in a transaction, retrying a bounded number of times when Postgres
 * aborts it for a serialization failure or deadlock (lock order makes the
 * latter impossible in this codebase; the retry is the safety net). Once it
 * has committed, the hooks registered with `afterCommit` run, in order, before
 * it returns; an attempt that rolled back (or is retried) runs none of its own.
 *
 * Called with a transaction (an idempotent request runs its whole mutation in
 * one), `fn` joins it: the outer transaction commits, retries and runs the
 * hooks of the whole. A joined call that throws takes its hooks with it.
 */
export async function withTransaction<DB, T>(
  db: Kysely<DB>,
  fn: (trx: Transaction<DB>) => Promise<T>,
  attempts = 4,
): Promise<T> {
  if (db.isTransaction) return joined(db as Transaction<DB>, fn);
  for (let attempt = 1; ; attempt++) {
    const hooks: AfterCommit[] = [];
    let result: T;
    try {
      result = await db.transaction().execute((trx) => {
        hooksOf.set(trx, hooks);
        return fn(trx);
      });
    } catch (err) {
      if (attempt >= attempts || !RETRYABLE.has(pgCode(err) ?? "")) throw err;
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
      continue;
    }
    await runHooks(hooks);
    return result;
  }
}

async function joined<DB, T>(trx: Transaction<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  const hooks = hooksOf.get(trx);
  const mark = hooks?.length ?? 0;
  try {
    return await fn(trx);
  } catch (err) {
    hooks?.splice(mark);
    throw err;
  }
}

/**
 * Every hook runs: one that throws (a bug; none should) does not stop the
 * rest, and the first such error reaches the caller. The change has
 * committed all the same.
 */
async function runHooks(hooks: AfterCommit[]): Promise<void> {
  let failure: { error: unknown } | null = null;
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

/**
 * Runs `hook` once the outermost transaction that `db` belongs to has
 * committed: never if it rolls back, not for an attempt that is retried, and
 * not when a savepoint taken before it is rolled back to. Outside a
 * transaction the statements have committed already, so it runs at once.
 */
export async function afterCommit(
  db: Pick<Kysely<unknown>, "isTransaction">,
  hook: AfterCommit,
): Promise<void> {
  if (!db.isTransaction) return hook();
  const hooks = hooksOf.get(db);
  if (!hooks) {
    throw new Error(
      "afterCommit: this transaction was not begun by withTransaction, so nothing would run the hook",
    );
  }
  hooks.push(hook);
}

/** A serialization failure or deadlock: the whole transaction may be retried. */
export function isRetryable(err: unknown): err is Error {
  return err instanceof Error && RETRYABLE.has(pgCode(err) ?? "");
}

/**
 * A savepoint in an open transaction: `rollback()` undoes only what ran after
 * it, after-commit hooks registered since included, and keeps the transaction
 * (and what ran before) alive.
 */
export async function savepoint<DB>(
  trx: Transaction<DB>,
  name: string,
): Promise<{ rollback(): Promise<void> }> {
  await sql`savepoint ${sql.id(name)}`.execute(trx);
  const hooks = hooksOf.get(trx);
  const mark = hooks?.length ?? 0;
  return {
    rollback: async () => {
      await sql`rollback to savepoint ${sql.id(name)}`.execute(trx);
      hooks?.splice(mark);
    },
  };
}
