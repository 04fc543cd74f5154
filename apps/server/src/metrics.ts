import { timingSafeEqual } from "node:crypto";
import { type LifecycleEvent, type LifecycleEvents } from "@agentex/core";
import type { Database } from "@agentex/db";
import type { WorkerStats } from "@agentex/workers";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { FORWARD_OUTCOMES, FORWARD_ROUTE, type ForwardOutcome } from "./forward.ts";
import { sendError } from "./rest-errors.ts";

/**
 * Prometheus metrics for one server instance (its own registry, so several
 * servers in one process never share counters).
 *
 * `/metrics` is open unless a token is configured (AGENTEX_METRICS_TOKEN):
 * scrapers usually reach it on an internal port or behind an ingress rule, and
 * it carries no per-agent data, only counts by procedure and status.
 */

const LIFECYCLE_EVENTS: LifecycleEvent[] = [
  "agent_created",
  "agent_deleted",
  "promotion",
  "registration",
  "deployment_created",
  "deployment_deleted",
  "health_changed",
];

export interface Metrics {
  registry: Registry;
  events: LifecycleEvents;
  /** A procedure call of `req` began (the router's middleware says which): its label. */
  onProcedure: (req: FastifyRequest, path: string) => void;
  /** One forwarded (or refused) webhook request, by outcome. */
  forwardOutcome: (outcome: ForwardOutcome) => void;
  install: (app: FastifyInstance) => void;
  /** The replica's workers, whose ticks, failures and leases are reported from then on. */
  watchWorkers: (stats: () => WorkerStats[]) => void;
}

export function createMetrics(opts: { database: Database; token?: string | null }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const labelNames = ["transport", "procedure", "method", "status"] as const;
  const requests = new Counter({
    name: "agentex_http_requests_total",
    help: "HTTP requests by transport (trpc, rest, http), procedure or route, method and status",
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "agentex_http_request_duration_seconds",
    help: "HTTP request latency by transport, procedure or route, method and status",
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: "agentex_db_pool_connections",
    help: "Database pool connections by state (total, idle, waiting = requests queued for a connection)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const stats = opts.database.poolStats();
      this.set({ state: "total" }, stats.total);
      this.set({ state: "idle" }, stats.idle);
      this.set({ state: "waiting" }, stats.waiting);
    },
  });
  const lifecycle = new Counter({
    name: "agentex_lifecycle_events_total",
    help: "Lifecycle events: agent_created, agent_deleted, registration, deployment_created, deployment_deleted, promotion, health_changed",
    labelNames: ["event"],
    registers: [registry],
  });
  for (const event of LIFECYCLE_EVENTS) lifecycle.inc({ event }, 0);
  const forwards = new Counter({
    name: "agentex_forward_requests_total",
    help: "Requests to /api/agents/forward/name/{agent_name}/{path} by outcome: forwarded (the agent answered), challenge, bad_request, unauthenticated, no_url, unreachable, timeout, too_large",
    labelNames: ["outcome"],
    registers: [registry],
  });
  for (const outcome of FORWARD_OUTCOMES) forwards.inc({ outcome }, 0);

  let workerStats: () => WorkerStats[] = () => [];
  const workerGauge = (name: string, help: string, value: (w: WorkerStats) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["worker"],
      registers: [registry],
      collect() {
        for (const w of workerStats()) {
          const v = value(w);
          if (v !== null) this.set({ worker: w.name }, v);
        }
      },
    });
  workerGauge(
    "agentex_worker_ticks",
    "Rounds each background worker has run on this replica",
    (w) => w.ticks,
  );
  workerGauge(
    "agentex_worker_failures",
    "Rounds (or starts and stops) of each background worker that failed on this replica",
    (w) => w.failures,
  );
  workerGauge(
    "agentex_worker_lease_held",
    "1 while this replica holds the worker's named lease (singleton jobs), 0 otherwise",
    (w) => (w.lease ? (w.lease.held ? 1 : 0) : null),
  );

  /** The procedures each request called, as the router announced them. */
  const called = new WeakMap<FastifyRequest, string[]>();

  /**
   * Bounded label values: procedure names the router announced, or route
   * templates, never raw URLs. A tRPC batch counts once per call in it, each
   * with the batch's HTTP status and duration (207 when its calls ended
   * differently); a call that never reached its procedure (an unknown name, a
   * malformed batch) is `unknown`.
   */
  function classify(req: FastifyRequest): Array<{ transport: string; procedure: string }> {
    const path = req.originalUrl.split("?")[0] ?? "";
    if (req.routeOptions.url === FORWARD_ROUTE) return [{ transport: "rest", procedure: "agents.forward" }];
    if (path.startsWith("/trpc/")) {
      const procedures = called.get(req) ?? [];
      const calls = Math.max(path.split(",").length, procedures.length);
      return Array.from({ length: calls }, (_, i) => ({
        transport: "trpc",
        procedure: procedures[i] ?? "unknown",
      }));
    }
    if (path.startsWith("/api/") && path !== "/api/openapi.json") {
      // Each route the REST bridge registers carries its one procedure's name, so a request
      // refused before the procedure ran (bad JSON, too large) is counted under it too.
      const route = (req.routeOptions.config as { procedure?: unknown } | undefined)?.procedure;
      return [{ transport: "rest", procedure: typeof route === "string" ? route : "unknown" }];
    }
    return [{ transport: "http", procedure: req.routeOptions.url ?? "unknown" }];
  }

  function authorized(req: FastifyRequest): boolean {
    if (!opts.token) return true;
    const given = Buffer.from(/^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1] ?? "");
    const expected = Buffer.from(opts.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  return {
    registry,
    events: { onEvent: (event) => lifecycle.inc({ event }) },
    onProcedure(req, path) {
      const list = called.get(req);
      if (list) list.push(path);
      else called.set(req, [path]);
    },
    forwardOutcome: (outcome) => forwards.inc({ outcome }),
    watchWorkers(stats) {
      workerStats = stats;
    },
    install(app) {
      app.addHook("onResponse", async (req, reply) => {
        const seconds = reply.elapsedTime / 1000;
        const status = String(reply.statusCode);
        for (const { transport, procedure } of classify(req)) {
          const labels = { transport, procedure, method: req.method, status };
          requests.inc(labels);
          duration.observe(labels, seconds);
        }
      });
      app.get("/metrics", async (req, reply) => {
        if (!authorized(req)) {
          return sendError(reply, 401, "a valid metrics token is required");
        }
        return reply.type(registry.contentType).send(await registry.metrics());
      });
    },
  };
}
