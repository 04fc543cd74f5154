import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import {
  dbFailure,
  isRetryable,
  savepoint,
  withTransaction,
  type DB,
  type Kysely,
  type Transaction,
} from "@agentex/db";
import type { Caller } from "./auth.ts";
import {
  DomainError,
  conflict,
  domainErrorOf,
  invalid,
  type DomainErrorKind,
  type ErrorDetails,
  type FieldIssue,
} from "./errors.ts";
import { stableJson } from "./util/stable-json.ts";
import { claimKey, findKey, purgeExpiredKeys, storeResponse } from "./queries/idempotency.ts";

/** How long a key and its answer are kept. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** How long a duplicate waits for the first request with its key before a 409 "in progress". */
export const IDEMPOTENCY_WAIT_MS = 10_000;
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
export const IDEMPOTENCY_HEADER = "Idempotency-Key";

/** The first answer, as stored: a result, or a domain error that the work itself decided. */
type StoredAnswer =
  | { ok: true; data: unknown }
  | {
      ok: false;
      kind: DomainErrorKind;
      message: string;
      issues?: FieldIssue[];
      reason?: string;
      details?: ErrorDetails;
    };

function sealKey(secret: Buffer): Buffer {
  return createHmac("sha256", secret).update("idempotency-response:v1").digest();
}

/** AES-256-GCM: answers can hold a fresh token or agent key, which the database must never hold in the clear. */
export function seal(secret: Buffer, answer: StoredAnswer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealKey(secret), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(answer), "utf8"), cipher.final()]);
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
}

export function unseal(secret: Buffer, sealed: string): StoredAnswer {
  const raw = Buffer.from(sealed.slice(3), "base64");
  const decipher = createDecipheriv("aes-256-gcm", sealKey(secret), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(
    Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8"),
  ) as StoredAnswer;
}

/** The key of this call: the header or the `idempotency_key` input field (they must agree), or null. */
export function idempotencyKeyOf(ctx: { idempotencyKey: string | null }, rawInput: unknown): string | null {
  const field =
    rawInput && typeof rawInput === "object"
      ? (rawInput as Record<string, unknown>).idempotency_key
      : undefined;
  if (field !== undefined && field !== null && (typeof field !== "string" || !IDEMPOTENCY_KEY.test(field))) {
    throw invalid([{ field: "idempotency_key", message: "must be 1-255 printable ASCII characters" }]);
  }
  const header = ctx.idempotencyKey;
  if (header !== null && header !== undefined && !IDEMPOTENCY_KEY.test(header)) {
    throw invalid([{ field: IDEMPOTENCY_HEADER, message: "must be 1-255 printable ASCII characters" }]);
  }
  if (header && field && header !== field) {
    throw invalid([{ field: "idempotency_key", message: `differs from the ${IDEMPOTENCY_HEADER} header` }]);
  }
  return (header || (field as string | undefined)) ?? null;
}

export function requestHash(path: string, rawInput: unknown): string {
  const input =
    rawInput && typeof rawInput === "object" && !Array.isArray(rawInput) ? { ...rawInput } : rawInput;
  if (input && typeof input === "object") delete (input as Record<string, unknown>).idempotency_key;
  return createHash("sha256")
    .update(stableJson({ path, input: input ?? null }))
    .digest("hex");
}

/** Keys are the caller's own: a principal, or an agent by its key. */
function scopeOf(principal: Caller): string {
  return `${principal.kind === "agent" ? "agent" : "principal"}:${principal.id}`;
}

/** Outcomes replayed to a retry: anything the work decided. Not kept: a database that was unavailable. */
function storable(err: DomainError | undefined): err is DomainError {
  return err !== undefined && err.kind !== "unavailable" && err.kind !== "unauthenticated";
}

function replay(answer: StoredAnswer): { ok: true; data: unknown } {
  if (answer.ok) return { ok: true, data: answer.data };
  throw new DomainError(answer.kind, answer.message, {
    ...(answer.issues ? { issues: answer.issues } : {}),
    ...(answer.reason ? { reason: answer.reason } : {}),
    ...(answer.details ? { details: answer.details } : {}),
  });
}

/** Thrown to roll the transaction back while handing its result out (a failure not worth keeping). */
class Discard extends Error {
  constructor(readonly result: unknown) {
    super("idempotency: result discarded");
  }
}

type NextResult = { ok: true; data: unknown } | { ok: false; error: { cause?: unknown } & Error };

/**
 * Runs a mutation under an idempotency key: the claim of (caller, key), the
 * work and its answer are one transaction. A duplicate that arrives while the
 * first is in flight waits on the key's unique index, then replays the answer
 * the first committed (or, if the first rolled back, does the work itself);
 * after IDEMPOTENCY_WAIT_MS it gets 409 `IDEMPOTENCY_KEY_IN_USE`.
 *
 * Kept and replayed: the result, and every error the work itself decided
 * (404, 403, 409 such as PRODUCTION_CHANGED, 412, 422 from a lifecycle rule).
 * Not kept (the key stays free, a retry does the work): input that failed its
 * schema, races reported as 409 by a unique index, 503 and 500.
 *
 * The work runs in this transaction, so what it does after commit (events,
 * the feed's NOTIFY, credential invalidations: `afterCommit`) waits for this
 * commit, and is dropped with the work when it is rolled back or retried.
 */
export interface IdempotentCall {
  db: Kysely<DB>;
  secretKey: Buffer;
  principal: Caller;
  setHeader(name: string, value: string): void;
}

export async function runIdempotent<R extends NextResult>(
  opts: { ctx: IdempotentCall; path: string; rawInput: unknown; key: string },
  next: (ctx: { db: Kysely<DB> }) => Promise<R>,
): Promise<R> {
  const { ctx, path, key } = opts;
  const scope = scopeOf(ctx.principal);
  const hash = requestHash(path, opts.rawInput);

  let outcome: { result: R; replayed: boolean };
  let replayed = false;
  try {
    outcome = await withTransaction(ctx.db, async (trx: Transaction<DB>) => {
      let fresh: boolean;
      try {
        fresh = await claimKey(
          trx,
          { scope, key, procedure: path, request_hash: hash, ttlSeconds: IDEMPOTENCY_TTL_SECONDS },
          IDEMPOTENCY_WAIT_MS,
        );
      } catch (err) {
        if (dbFailure(err)?.kind === "locked") {
          throw conflict(`a request with this ${IDEMPOTENCY_HEADER} is still in progress; retry later`);
        }
        throw err;
      }
      if (!fresh) {
        const stored = await findKey(trx, scope, key);
        if (!stored)
          throw conflict(`a request with this ${IDEMPOTENCY_HEADER} is still in progress; retry later`);
        if (stored.procedure !== path || stored.request_hash !== hash) {
          throw new DomainError(
            "invalid",
            `this ${IDEMPOTENCY_HEADER} was already used with a different request`,
            {
              issues: [{ field: "idempotency_key", message: "was already used with a different request" }],
              reason: "IDEMPOTENCY_KEY_REUSED",
            },
          );
        }
        replayed = true;
        return { result: replay(unseal(ctx.secretKey, stored.response)) as R, replayed: true };
      }
      const work = await savepoint(trx, "idem_work");
      const result = await next({ db: trx });
      if (result.ok) {
        await storeResponse(trx, scope, key, seal(ctx.secretKey, { ok: true, data: result.data }));
        return { result, replayed: false };
      }
      const cause = result.error.cause;
      if (isRetryable(cause)) throw cause; // the outer transaction retries everything
      const err = domainErrorOf(result.error);
      if (!storable(err)) throw new Discard(result);
      await work.rollback();
      await storeResponse(
        trx,
        scope,
        key,
        seal(ctx.secretKey, {
          ok: false,
          kind: err.kind,
          message: err.message,
          ...(err.issues ? { issues: err.issues } : {}),
          ...(err.reason ? { reason: err.reason } : {}),
          ...(err.details ? { details: err.details } : {}),
        }),
      );
      return { result, replayed: false };
    });
  } catch (err) {
    if (err instanceof Discard) return err.result as R;
    throw err;
  } finally {
    // A replayed error is thrown from inside the transaction; it is a replay all the same.
    if (replayed) ctx.setHeader("idempotent-replayed", "true");
  }
  await purgeExpiredKeys(ctx.db).catch(() => 0);
  return outcome.result;
}
