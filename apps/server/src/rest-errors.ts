import { codeForStatus, type FieldIssue } from "@agentex/wire";
import { errorBody, wireError } from "@agentex/api";
import { protoKeyPath } from "@agentex/core";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "PARSE_ERROR",
  FST_ERR_CTP_EMPTY_JSON_BODY: "PARSE_ERROR",
};

/**
 * The SPEC body of an answer the server gives without running a procedure
 * (transport limits, unknown routes, docs, metrics, forwarding). Its code is
 * the status's own, from the table the client reads statuses with, unless a
 * finer one is given.
 */
export function ownErrorBody(
  requestId: string,
  status: number,
  message: string,
  opts: { code?: string; issues?: FieldIssue[] } = {},
) {
  return errorBody(
    { status, message, code: opts.code ?? codeForStatus(status), issues: opts.issues },
    requestId,
  );
}

/** Answers a procedure's (or a domain) error with the SPEC body: its status, code, message, issues and details. */
export function sendFailure(reply: FastifyReply, err: unknown) {
  const wire = wireError(err, reply.request.id);
  return reply.code(wire.status).send(errorBody(wire, reply.request.id));
}

/** Answers `status` with the SPEC body (see ownErrorBody). */
export function sendError(
  reply: FastifyReply,
  status: number,
  message: string,
  opts: { code?: string; issues?: FieldIssue[] } = {},
) {
  return reply.code(status).send(ownErrorBody(reply.request.id, status, message, opts));
}

function protoKeyOf(text: string): string | null {
  try {
    return protoKeyPath(JSON.parse(text));
  } catch {
    return null;
  }
}

/** Far above any nesting a valid input has (registration_metadata allows 16). */
export const MAX_JSON_NESTING = 64;
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** Whether JSON text opens more than `max` arrays/objects at once; a linear scan, no recursion. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Every error leaving the server carries the SPEC body. Procedure errors are
 * written in it by the REST bridge (rest-bridge.ts); this gives the same shape
 * to errors Fastify raises before a route runs (bad JSON, too large, wrong
 * type, unknown route).
 */
export function installRestErrors(app: FastifyInstance) {
  // Agentex clients POST actions such as promote with no body at all.
  app.removeContentTypeParser("application/json");
  // `constructor` keys are ordinary data (as over /trpc); `__proto__` keys are refused (below).
  const json = app.getDefaultJsonParser("error", "ignore");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    if (body === "") return done(null, {});
    // Refused before parsing: the REST bridge re-serializes bodies recursively
    // (a stack overflow, so a 500, at a few thousand levels).
    if (nestsDeeperThan(body as string, MAX_JSON_NESTING)) {
      const err = new Error(`the JSON body nests deeper than ${MAX_JSON_NESTING} levels`) as FastifyError;
      err.statusCode = 400;
      return done(err, undefined);
    }
    // Fastify's default parser answers through its callback; it returns nothing to wait for.
    void json(req, body as string, (err, parsed) => {
      // A `__proto__` key at any depth: a 422 naming it, exactly as /trpc answers (protoKeyPath).
      // The parser's error does not say why; JSON that plain JSON.parse accepts failed only for a `__proto__` key.
      const field = err ? protoKeyOf(body as string) : null;
      if (field === null) return done(err, parsed);
      const invalid = new Error(
        `invalid input: ${field}: '__proto__' is not allowed as a key`,
      ) as FastifyError & { issues: FieldIssue[] };
      invalid.statusCode = 422;
      invalid.code = "UNPROCESSABLE_CONTENT";
      invalid.issues = [{ field, message: "'__proto__' is not allowed as a key" }];
      done(invalid, undefined);
    });
  });
  app.addHook("preHandler", async (request, reply) => {
    if (!request.originalUrl.startsWith("/api/")) return;
    // The webhook forward route relays the raw body as it came.
    if ((request.routeOptions.config as { rawProxy?: boolean } | undefined)?.rawProxy) return;
    if (request.body === undefined && !request.headers["content-type"]) {
      request.headers["content-type"] = "application/json";
      request.body = {};
      return;
    }
    // The bridge spreads the body into the input ({...[1]}, {...null}): a body
    // that is not an object would otherwise be silently taken as `{}`.
    const body: unknown = request.body;
    const isJson = /^application\/json\b/i.test(request.headers["content-type"] ?? "");
    if (
      isJson &&
      BODY_METHODS.has(request.method) &&
      (typeof body !== "object" || body === null || Array.isArray(body))
    ) {
      const issue = { field: "", message: "the request body must be a JSON object" };
      return sendError(reply, 422, `invalid input: ${issue.message}`, { issues: [issue] });
    }
  });

  // Dot segments, fragments and absolute-form targets are refused before routing: see hardening.ts.

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, "unhandled error");
    const issues = (error as { issues?: unknown }).issues;
    if (status === 422 && Array.isArray(issues))
      return sendError(reply, status, error.message, { issues: issues as FieldIssue[] });
    // A 5xx is opaque, whatever its status: the cause is in the log.
    if (status >= 500)
      return sendError(reply, status, `internal error (request id ${request.id})`, {
        code: "INTERNAL_SERVER_ERROR",
      });
    return sendError(reply, status, error.message, { code: FASTIFY_CODES[error.code] });
  });

  app.setNotFoundHandler((request, reply) => {
    const message = `route ${request.method} ${request.url.split("?")[0]} not found`;
    return sendError(reply, 404, message);
  });
}

/**
 * Fastify's `frameworkErrors` option: a URL that cannot be decoded (`%ZZ`) or a
 * path parameter over `maxParamLength` is answered before any route or error
 * handler runs, in Fastify's own shape unless handled here.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const tooLong = error.code === "FST_ERR_MAX_PARAM_LENGTH";
  const status = tooLong ? 414 : 400;
  const message = tooLong ? "a path parameter is too long" : "the URL is not validly percent-encoded";
  void sendError(reply.header("x-request-id", request.id), status, message);
}
