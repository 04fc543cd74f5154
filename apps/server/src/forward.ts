import http from "node:http";
import https from "node:https";
import { Transform, pipeline } from "node:stream";
import { decideForward, unavailable } from "@agentex/core";
import { dbFailure, type Database } from "@agentex/db";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendError, sendFailure } from "./rest-errors.ts";

/**
 * Agentex's webhook ingress, `GET|POST /api/agents/forward/name/{agent_name}/{path}`:
 * a raw proxy to the agent's production URL (`acp_url`), so a promotion moves
 * the very next forwarded request. Not a tRPC procedure: bodies are opaque
 * bytes (signatures cover them exactly) and responses are streamed back.
 */

export const FORWARD_PREFIX = "/api/agents/forward/name/";
export const FORWARD_ROUTE = `${FORWARD_PREFIX}:agent_name/*`;

export const FORWARD_OUTCOMES = [
  "forwarded",
  "challenge",
  "bad_request",
  "unauthenticated",
  "no_url",
  "unreachable",
  "timeout",
  "too_large",
] as const;
export type ForwardOutcome = (typeof FORWARD_OUTCOMES)[number];

export interface ForwardOptions {
  database: Database;
  secretKey: Buffer;
  /** Largest request body read (signatures need all of it before anything is sent). */
  bodyLimitBytes: number;
  /** Until the agent's response headers arrive, and then the longest silence while streaming. */
  timeoutMs: number;
  /** Largest response relayed; a longer one is cut off. */
  maxResponseBytes: number;
  onOutcome(outcome: ForwardOutcome): void;
}

/** RFC 9110 §7.6.1 hop-by-hop fields, plus the ones a proxy must set itself. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "expect",
]);
/** The caller's credentials for this server never reach the agent. */
const CREDENTIALS = new Set(["authorization", "x-agent-api-key", "cookie"]);

function dropHeaders(
  headers: http.IncomingHttpHeaders,
  extra: ReadonlySet<string>,
): Record<string, string | string[]> {
  const named = String(headers.connection ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || extra.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

class ForwardError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly outcome: ForwardOutcome,
  ) {
    super(message);
  }
}

/**
 * The one URL a forwarded request may reach: the registered `acp_url` with the
 * caller's path appended below its path. Dot segments, encoded slashes or
 * backslashes and anything that would change the origin are refused, whatever
 * their encoding.
 */
export function forwardTarget(acpUrl: string, rawPath: string, query: string | null): URL {
  const base = new URL(acpUrl);
  const path = rawPath.replace(/^\/+/, "");
  const refuse = (why: string) => new ForwardError(400, `the forwarded path ${why}`, "bad_request");
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\\\s\u0000-\u001f\u007f#]/.test(path)) throw refuse("contains characters that are not allowed");
  for (const segment of path.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw refuse("is not validly percent-encoded");
    }
    if (decoded === "." || decoded === "..") throw refuse("must not contain . or .. segments");
    if (/[/\\]/.test(decoded)) throw refuse("must not contain encoded slashes");
  }
  const basePath = base.pathname.replace(/\/+$/, "");
  const auth = base.username ? `${base.username}${base.password ? `:${base.password}` : ""}@` : "";
  const target = new URL(
    `${base.protocol}//${auth}${base.host}${basePath}/${path}${query !== null ? `?${query}` : ""}`,
  );
  if (target.origin !== base.origin || !target.pathname.startsWith(`${basePath}/`))
    throw refuse("leaves the agent URL");
  return target;
}

function splitUrl(rawUrl: string): { path: string; query: string | null } {
  const q = rawUrl.indexOf("?");
  return q < 0 ? { path: rawUrl, query: null } : { path: rawUrl.slice(0, q), query: rawUrl.slice(q + 1) };
}

/** Counts bytes through; fails the stream once `max` is passed (the response is then cut off). */
function byteLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new Error(`response larger than ${max} bytes`));
      else done(null, chunk);
    },
  });
}

async function relay(
  opts: ForwardOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  target: URL,
  body: Buffer,
) {
  const headers = dropHeaders(request.raw.headers, CREDENTIALS);
  headers["x-request-id"] = request.id;
  const prior = request.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = prior ? `${String(prior)}, ${request.ip}` : request.ip;
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  if (hasBody) headers["content-length"] = String(body.length);

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const client = target.protocol === "https:" ? https : http;
  const upstream = client.request(target, {
    method: request.method,
    headers,
    signal: controller.signal,
    agent: false,
  });
  // The caller went away: stop the agent's work too.
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  let response: http.IncomingMessage;
  try {
    response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      upstream.once("response", resolve);
      upstream.once("error", reject);
      upstream.end(hasBody ? body : undefined);
    });
  } catch {
    clearTimeout(timer);
    if (timedOut)
      throw new ForwardError(504, `the agent did not answer within ${opts.timeoutMs} ms`, "timeout");
    throw new ForwardError(502, "the agent is unreachable at its production URL", "unreachable");
  }
  clearTimeout(timer);
  const declared = Number(response.headers["content-length"]);
  if (Number.isFinite(declared) && declared > opts.maxResponseBytes) {
    response.destroy();
    throw new ForwardError(
      502,
      `the agent's response is larger than ${opts.maxResponseBytes} bytes`,
      "too_large",
    );
  }
  // While streaming, a silent agent is cut off after the same timeout.
  upstream.setTimeout(opts.timeoutMs, () => upstream.destroy(new Error("idle")));
  const out = byteLimit(opts.maxResponseBytes);
  pipeline(response, out, (err) => {
    if (err) request.log.warn({ err: err.message }, "forwarded response cut off");
  });
  opts.onOutcome("forwarded");
  reply.code(response.statusCode ?? 502);
  for (const [name, value] of Object.entries(dropHeaders(response.headers, new Set(["set-cookie"])))) {
    if (name !== "x-request-id") reply.header(name, value);
  }
  if (Number.isFinite(declared)) reply.header("content-length", String(declared));
  return reply.send(out);
}

export function installForward(app: FastifyInstance, opts: ForwardOptions) {
  return app.register((scope, _opts, done) => {
    // Opaque bytes, whatever the type: signatures are over the raw body.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      "*",
      { parseAs: "buffer", bodyLimit: opts.bodyLimitBytes },
      (_req, body, done) => done(null, body),
    );

    scope.route({
      method: ["GET", "POST"],
      url: FORWARD_ROUTE,
      config: { rawProxy: true },
      async handler(request, reply) {
        const { agent_name: agentName } = request.params as { agent_name: string };
        const { path, query } = splitUrl(request.raw.url ?? "");
        const afterName = path.slice(FORWARD_PREFIX.length);
        const rest = afterName.slice(afterName.indexOf("/") + 1);
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        try {
          const decision = await decideForward(opts.database.db, opts.secretKey, {
            agentName,
            headers: request.headers,
            body,
          });
          if (decision.kind === "challenge") {
            opts.onOutcome("challenge");
            return reply.code(200).type("text/plain; charset=utf-8").send(decision.challenge);
          }
          if (decision.kind === "refuse") {
            opts.onOutcome(decision.outcome);
            return sendError(reply, decision.status, decision.message, { code: decision.code });
          }
          return await relay(opts, request, reply, forwardTarget(decision.agent.acp_url, rest, query), body);
        } catch (err) {
          if (err instanceof ForwardError) {
            opts.onOutcome(err.outcome);
            return sendError(reply, err.status, err.message);
          }
          if (dbFailure(err)?.kind === "unavailable") {
            return sendFailure(reply, unavailable());
          }
          throw err;
        }
      },
    });
    done();
  });
}
