import { randomUUID } from "node:crypto";
import { appRouter, createContextInner } from "@agentex/api";
import { type AuthCacheOptions } from "@agentex/workers";
import { type LifecycleEvents } from "@agentex/core";
import type { Database } from "@agentex/db";
import type { TRPCError } from "@trpc/server";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { DEFAULTS, type EventsConfig, type HealthConfig, type LogFormat } from "./config.ts";
import { installConsole } from "./console.ts";
import { installDocs } from "./docs.ts";
import { installForward } from "./forward.ts";
import { installEventsRoute } from "./events-route.ts";
import { loggerOptions } from "./logging.ts";
import { createMetrics } from "./metrics.ts";
import { openApiDocument } from "./openapi.ts";
import { clientErrorHandler, installContentTypeGuard, installTargetGuard, rewriteUrl } from "./hardening.ts";
import { installRestBridge } from "./rest-bridge.ts";
import { installTrpcFastPath } from "./trpc-fast.ts";
import { frameworkErrors, installRestErrors } from "./rest-errors.ts";
import { installWorkers } from "./workers.ts";

/** An option left unset takes its value from `DEFAULTS` in config.ts. */
export interface ServerOptions {
  database: Database;
  secretKey: Buffer;
  logLevel?: string;
  /** Not chosen by whether stdout is a terminal: that is the configuration's job (LOG_FORMAT). */
  logFormat?: LogFormat;
  bodyLimitBytes?: number;
  events?: LifecycleEvents;
  /** When set, `/metrics` requires `Authorization: Bearer <metricsToken>`; otherwise it is open (restrict it at the network). */
  metricsToken?: string | null;
  /** Where log lines go (tests); stdout by default. */
  logStream?: { write(line: string): void };
  /** A request (headers and body) must arrive within this; a stalled one gets 408. */
  requestTimeoutMs?: number;
  /** The headers must arrive within this (≤ requestTimeoutMs). */
  headersTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs?: number;
  /** Open connections beyond this are dropped at once. */
  maxConnections?: number;
  /** Most procedures in one /trpc batch; larger batches get 400. */
  trpcMaxBatch?: number;
  /** Webhook forwarding: time to the agent's response headers, and the longest silence after them. */
  forwardTimeoutMs?: number;
  /** Webhook forwarding: the largest response relayed. */
  forwardMaxResponseBytes?: number;
  /** Change feed limits, each one that is unset from `DEFAULTS.events`. */
  feed?: Partial<EventsConfig>;
  /** Health checks of registered URLs; off unless given (main.ts passes the configuration). */
  health?: HealthConfig | null;
  /**
   * The in-process cache of authenticated principals (its size and lifetime
   * default to AuthCache's own); `false` asks the database on every call.
   * Invalidated at once on this replica and over LISTEN/NOTIFY on the others.
   */
  authCache?: Pick<AuthCacheOptions, "max" | "ttlMs"> | false;
  /**
   * A close (draining the requests in flight, then stopping the workers and
   * releasing their leases) fits in this; main.ts exits by it.
   */
  shutdownTimeoutMs?: number;
  /** Run last, on the built app: a host (or a test) adds its own hooks or routes. */
  plugins?: Array<(app: FastifyInstance) => void | Promise<void>>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function bearer(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (typeof header === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match?.[1]) return match[1];
  }
  // Agentex agents send their key in this header.
  const agentKey = req.headers["x-agent-api-key"];
  return typeof agentKey === "string" && agentKey ? agentKey : null;
}

/** `Idempotency-Key` (REST and /trpc); an empty header counts as none. */
function idempotencyKeyHeader(req: FastifyRequest): string | null {
  const value = req.headers["idempotency-key"];
  return typeof value === "string" && value !== "" ? value : null;
}

/** REST lists keep their bare-array body; the next page is announced in headers. */
function setNextCursor(req: FastifyRequest, reply: FastifyReply, cursor: string) {
  const url = new URL(req.originalUrl, "http://localhost");
  url.searchParams.delete("page_number");
  url.searchParams.set("cursor", cursor);
  reply.header("x-next-cursor", cursor);
  reply.header("link", `<${url.pathname}${url.search}>; rel="next"`);
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULTS.bodyLimitBytes;
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  const headersTimeout = Math.min(opts.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs, requestTimeout);
  const app = Fastify({
    ...loggerOptions({
      level: opts.logLevel ?? DEFAULTS.logLevel,
      format: opts.logFormat ?? DEFAULTS.logFormat,
      stream: opts.logStream,
    }),
    bodyLimit,
    requestTimeout,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
    http: {
      headersTimeout,
      requestTimeout,
      // Node checks both timeouts on this timer (30 s by default): a stalled
      // request would otherwise live up to 30 s past its timeout.
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersTimeout / 2))),
    },
    clientErrorHandler,
    // Before any route matching: refuses request-targets that are not plain origin-form paths.
    rewriteUrl,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // REST path parameters are validated by their procedures (a uuid, a 63-char name): let an
    // over-long one reach that check (a 422 naming the field); Node's header limit bounds the URL.
    routerOptions: { maxParamLength: 16_384 },
    frameworkErrors,
    return503OnClosing: true,
    forceCloseConnections: "idle",
  });

  app.server.headersTimeout = headersTimeout;
  app.server.maxConnections = opts.maxConnections ?? DEFAULTS.maxConnections;

  app.addHook("onSend", async (request, reply, payload) => {
    reply.header("x-request-id", request.id);
    return payload;
  });
  installContentTypeGuard(app);
  installTargetGuard(app);

  const metrics = createMetrics({ database: opts.database, token: opts.metricsToken ?? null });
  metrics.install(app);

  const { runner, feed, auth, events } = await installWorkers(app, {
    database: opts.database,
    feed: opts.feed,
    health: opts.health ?? null,
    authCache: opts.authCache,
    sinks: [metrics.events, opts.events],
    shutdownTimeoutMs: opts.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs,
  });
  metrics.watchWorkers(() => runner.stats());

  const createContext = ({ req, res }: { req: FastifyRequest; res: FastifyReply }) =>
    createContextInner({
      auth,
      onNextCursor: req.originalUrl.startsWith("/api/") ? (cursor) => setNextCursor(req, res, cursor) : null,
      db: opts.database.db,
      secretKey: opts.secretKey,
      token: bearer(req),
      requestId: req.id,
      log: req.log,
      events,
      idempotencyKey: idempotencyKeyHeader(req),
      setHeader: (name, value) => void res.header(name, value),
      feed,
      abortConnection: () => req.raw.socket?.destroy(),
      onProcedure: (path) => metrics.onProcedure(req, path),
    });

  installRestErrors(app);

  // Procedure failures are logged by the router's mapErrors; this catches the
  // rest (a transport failing before any procedure runs), which would otherwise
  // leave a 500 with nothing in the log.
  const onError = ({
    error,
    path,
    req,
  }: {
    error: TRPCError;
    path?: string | undefined;
    req: FastifyRequest;
  }) => {
    if (error.code === "INTERNAL_SERVER_ERROR" && !path)
      req.log.error({ err: error.cause ?? error }, "transport error");
  };

  const maxBatchSize = opts.trpcMaxBatch ?? DEFAULTS.trpcMaxBatch;
  installTrpcFastPath(app, { prefix: "/trpc", router: appRouter, createContext, maxBatchSize });
  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      createContext,
      onError,
      maxBatchSize,
      maxBodySize: bodyLimit,
    } satisfies FastifyTRPCPluginOptions<typeof appRouter>["trpcOptions"],
  });
  installEventsRoute(app, { database: opts.database, secretKey: opts.secretKey, feed, bearer });
  installRestBridge(app, { prefix: "/api", router: appRouter, createContext });

  const document = openApiDocument();
  app.get("/api/openapi.json", () => document);
  installDocs(app);
  await installForward(app, {
    database: opts.database,
    secretKey: opts.secretKey,
    bodyLimitBytes: bodyLimit,
    timeoutMs: opts.forwardTimeoutMs ?? DEFAULTS.forwardTimeoutMs,
    maxResponseBytes: opts.forwardMaxResponseBytes ?? DEFAULTS.forwardMaxResponseBytes,
    onOutcome: metrics.forwardOutcome,
  });
  installConsole(app);
  app.get("/healthz", () => ({ status: "ok" }));
  // Agentex's probe path.
  app.get("/healthcheck", () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const ok = await opts.database.ping();
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? "ready" : "unavailable", store: opts.database.kind });
  });

  for (const plugin of opts.plugins ?? []) await plugin(app);
  return app;
}
