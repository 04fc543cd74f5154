/**
 * What a failed statement means for the caller, from the SQLSTATE Postgres
 * (or PGlite, or the `pg` driver) puts on the error. The API maps each kind
 * to its domain error (trpc.ts `mapErrors`); nothing above this module reads
 * SQLSTATE codes or constraint names.
 */

/** The SQLSTATE (or Node socket code) of a database error, or undefined. */
export function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** What a lost race on each unique index means, in the caller's words (see the migrations). */
const UNIQUE_MESSAGES: Record<string, string> = {
  agents_live_name_uq: "an agent with that name already exists",
};

export type DbFailure =
  /** A unique index refused the row: another request got there first. */
  | { kind: "conflict"; constraint: string | null; message: string }
  /** The database is unreachable, restarting, or cancelled a statement that ran too long. */
  | { kind: "unavailable" }
  /** A value the database could not take (class 22: malformed, out of range). */
  | { kind: "invalid" }
  /** A row lock could not be taken without waiting (NOWAIT, lock_timeout). */
  | { kind: "locked" };

const NODE_CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
]);

/** True for failures that mean "the database is unreachable right now", not "this request is wrong". */
function isConnectionError(err: unknown, code: string | undefined): boolean {
  if (code && (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03"))
    return true;
  if (code && NODE_CONNECTION_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : "";
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i.test(
    message,
  );
}

/** Classifies a database error; null when it is none of these (a bug, or not a database error). */
export function dbFailure(err: unknown): DbFailure | null {
  const code = pgCode(err);
  if (code === "23505") {
    const constraint = (err as { constraint?: unknown }).constraint;
    const name = typeof constraint === "string" ? constraint : null;
    return {
      kind: "conflict",
      constraint: name,
      message: (name !== null ? UNIQUE_MESSAGES[name] : undefined) ?? "conflicts with an existing resource",
    };
  }
  // 57014: statement_timeout (or a cancel); the database is too slow right now.
  if (code === "57014" || isConnectionError(err, code)) return { kind: "unavailable" };
  if (code === "55P03") return { kind: "locked" };
  if (code?.startsWith("22")) return { kind: "invalid" };
  return null;
}
