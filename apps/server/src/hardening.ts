import { FORWARD_PREFIX } from "./forward.ts";
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ownErrorBody } from "./rest-errors.ts";

/**
 * Transport-level defences, each applied at one place every request passes
 * through: the request-target check (before routing), the content-type check
 * (before the body is read) and the client-error handler (timeouts).
 */

const REFUSED_ROUTE = "/__agentex/refused-target";
const refusal = Symbol("agentex.refusedTarget");

type WithRefusal = IncomingMessage & { [refusal]?: string };

/** The SPEC body as text: these answers are written before (or without) Fastify's serializer. */
function body(status: number, message: string, requestId: string): string {
  return JSON.stringify(ownErrorBody(requestId, status, message));
}

/** Decodes each %XX to its byte (never throws), so encoded `.`, `/`, `\` and `;` are seen as such. */
function bytewiseDecode(s: string): string {
  return s.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * Why a request-target is refused, or null. Only origin-form (`/path?query`)
 * is served: absolute-form (`http://host/...`), authority-form and `*` are
 * refused, as is a fragment (`#`, never valid in a request-target). In the
 * path, after percent-decoding: no backslash, and no `.`/`..` segment, also
 * not behind `;` parameters (`..;x`), which some proxies strip.
 * The REST bridge resolves paths with WHATWG URL rules, which would apply a
 * dot segment after routing (`/agents/X/deployments/..` → `/agents/X`); no
 * route has any of these characters in its path, so nothing legitimate is
 * refused. The query string is not inspected.
 */
export function targetProblem(target: string): string | null {
  if (!target.startsWith("/") || target.startsWith("//"))
    return "only origin-form request targets (/path?query) are accepted";
  if (target.includes("#")) return "a request target must not contain a fragment (#)";
  const q = target.indexOf("?");
  const path = bytewiseDecode(q >= 0 ? target.slice(0, q) : target);
  if (path.includes("\\")) return "the path must not contain backslashes";
  if (path.split("/").some((seg) => /^\.{1,2}(;|$)/.test(seg)))
    return "the path must not contain dot segments";
  return null;
}

/**
 * Fastify's `rewriteUrl`: runs on the raw request before any route matching.
 * A refused target is routed to one internal route that answers 400 with the
 * SPEC body before reading any body; every other target is left as it is.
 */
export function rewriteUrl(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const problem = targetProblem(url);
  if (!problem) return url;
  (req as WithRefusal)[refusal] = problem;
  return REFUSED_ROUTE;
}

export function installTargetGuard(app: FastifyInstance) {
  app.route({
    method: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    url: REFUSED_ROUTE,
    onRequest: async (request, reply) => {
      const problem = (request.raw as WithRefusal)[refusal] ?? "this path is reserved";
      return reply
        .code(400)
        .header("connection", "close")
        .type("application/json; charset=utf-8")
        .send(body(400, problem, request.id));
    },
    // Never runs: the onRequest hook above always answers.
    handler: (_request, reply) => reply,
  });
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return (length !== undefined && length !== "0") || request.headers["transfer-encoding"] !== undefined;
}

/**
 * The API speaks JSON only: any request that carries a body of another type
 * (multipart, forms, text, octet-stream, or none declared) gets 415 before
 * the body is read, on /trpc and /api alike, and the connection is closed so
 * the unread body is never consumed.
 */
export function installContentTypeGuard(app: FastifyInstance) {
  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    if (!hasBody(request)) return;
    // Webhook forwarding relays whatever GitHub or Slack send (Slack posts forms); it reads the raw
    // body itself, under the same body limit, and checks its signature before anything else.
    if (request.url.startsWith(FORWARD_PREFIX)) return;
    const type = request.headers["content-type"];
    if (type !== undefined && /^application\/json\s*(;|$)/i.test(type)) return;
    const message = `content type '${type ?? "(none)"}' is not supported: send application/json`;
    return reply
      .code(415)
      .header("connection", "close")
      .type("application/json; charset=utf-8")
      .send(body(415, message, request.id));
  });
}

/**
 * Fastify's `clientErrorHandler`: errors Node raises on a connection before
 * or outside a handler. A request whose headers or body do not arrive within
 * the timeouts gets 408 with the SPEC body, then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const status =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
  const message =
    status === 408
      ? "the request was not received in time"
      : status === 431
        ? "the request headers are too large"
        : "malformed HTTP request";
  const requestId = randomUUID();
  const payload = body(status, message, requestId);
  if (socket.writable && socket.bytesWritten === 0) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${payload}`,
    );
  }
  socket.destroy(err);
}
