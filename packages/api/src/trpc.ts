import {
  DomainError,
  IDEMPOTENCY_HEADER,
  IDEMPOTENCY_KEY,
  authenticate,
  conflict,
  domainErrorOf,
  idempotencyKeyOf,
  invalid,
  protoKeyPath,
  runIdempotent,
  unauthenticated,
  unavailable,
  type FieldIssue,
} from "@agentex/core";
import { dbFailure } from "@agentex/db";
import { initTRPC, type TRPCError } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { z } from "zod";
import type { Context } from "./context.ts";
import { toTRPCError, wireError } from "./errors.ts";

const t = initTRPC
  .context<Context>()
  .meta<OpenApiMeta>()
  .create({
    isDev: false,
    // Subscriptions (SSE): a ping comment keeps idle streams (and proxies) alive;
    // a client that hears nothing for twice that reconnects, resuming by id.
    sse: {
      ping: { enabled: true, intervalMs: 10_000 },
      client: { reconnectAfterInactivityMs: 25_000 },
    },
    /**
     * tRPC's own envelope, its `data` extended with the fields of the SPEC
     * body (errors.ts errorBody): the finer code, the request id, a 422's
     * field issues and the error's details. /api writes that body itself.
     */
    errorFormatter({ shape, error, ctx }) {
      const requestId = ctx?.requestId ?? null;
      const wire = wireError(error, requestId);
      return {
        ...shape,
        message: wire.message,
        data: {
          ...shape.data,
          ...wire.details,
          code: wire.code,
          httpStatus: wire.status,
          path: shape.data.path ?? null,
          request_id: requestId,
          ...(wire.issues ? { issues: wire.issues } : {}),
        },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

function zodIssues(err: z.core.$ZodError): FieldIssue[] {
  return err.issues.map((i) => ({ field: i.path.map(String).join("."), message: i.message }));
}

/** The domain error a failure means, if any: domain errors as they are, and the failures mapped to one. */
function asDomainError(error: TRPCError): DomainError | undefined {
  const cause = error.cause;
  const domain = domainErrorOf(error);
  if (domain) return domain;
  // Input only: a failed output schema is the server's bug (500).
  if (error.code === "BAD_REQUEST" && cause instanceof z.core.$ZodError) return invalid(zodIssues(cause));
  const db = dbFailure(cause);
  if (db?.kind === "conflict") return conflict(db.message);
  if (db?.kind === "unavailable") return unavailable();
  if (db?.kind === "invalid")
    return invalid([{ field: "", message: "a value is malformed or out of range" }]);
  return undefined;
}

/**
 * The one place failures become tRPC errors: a domain error (thrown by the
 * rules, or an input that failed its schema — 422 naming each field, a unique
 * index that lost a race — 409, a database that is down or too slow — 503)
 * travels as its tRPC code with the domain error as its cause. Anything left
 * is a bug: logged with its cause and answered as an opaque 500.
 */
const mapErrors = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (result.ok) return result;
  const { error } = result;
  const domain = asDomainError(error);
  if (domain) throw toTRPCError(domain);
  if (error.code === "INTERNAL_SERVER_ERROR") {
    ctx.log.error({ err: error.cause ?? error, path, request_id: ctx.requestId }, "internal error");
  }
  return result;
});

/**
 * Names the procedure to the host before anything can fail (authentication,
 * input), so every call is counted under its procedure whichever transport
 * carried it; the host needs no knowledge of the router's shape or routes.
 */
const announceProcedure = t.middleware(({ ctx, path, next }) => {
  ctx.onProcedure?.(path);
  return next();
});

/** `__proto__` keys, at any depth, are a 422 naming the field on both transports (see proto-keys.ts). */
const refuseProtoKeys = t.middleware(async ({ getRawInput, next }) => {
  const field = protoKeyPath(await getRawInput());
  if (field !== null) throw invalid([{ field, message: "'__proto__' is not allowed as a key" }]);
  return next();
});

export const publicProcedure = t.procedure.use(announceProcedure).use(mapErrors).use(refuseProtoKeys);

const authenticated = publicProcedure.use(async ({ ctx, next }) => {
  let principal = ctx.principal;
  if (!principal) {
    if (!ctx.token) throw unauthenticated();
    principal = ctx.auth ? await ctx.auth.authenticate(ctx.token) : await authenticate(ctx.db, ctx.token);
    if (!principal) throw unauthenticated();
  }
  return next({ ctx: { principal } });
});

/**
 * Every authenticated mutation honours an idempotency key (`Idempotency-Key`
 * header or `idempotency_key` input field): see runIdempotent.
 */
export const authedProcedure = authenticated.use(async ({ ctx, next, type, path, getRawInput }) => {
  if (type !== "mutation") return next();
  const rawInput = await getRawInput().catch(() => undefined);
  const key = idempotencyKeyOf(ctx, rawInput);
  if (!key) return next();
  return runIdempotent({ ctx, path, rawInput, key }, (inner) => next({ ctx: inner }));
});

/** The typed `idempotency_key` field of every mutation's input (tRPC; REST callers use the header). */
export const Idempotent = z.object({
  idempotency_key: z
    .string()
    .regex(IDEMPOTENCY_KEY, "must be 1-255 printable ASCII characters")
    .optional()
    // Read by the idempotency middleware from the raw input; handlers never see it.
    .transform((): undefined => undefined)
    .describe(
      `Same as the ${IDEMPOTENCY_HEADER} header: a retry with the same key and input replays the first answer.`,
    ),
});

/** For mutations: authenticated, idempotent, and typed with the optional `idempotency_key`. */
export const mutationProcedure = authedProcedure.input(Idempotent);

export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!ctx.principal.admin) throw new DomainError("forbidden", "only an admin may do this");
  return next();
});

/** Admin-only mutations, idempotent like the others. */
export const adminMutationProcedure = adminProcedure.input(Idempotent);
