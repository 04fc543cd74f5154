import { appRouter } from "@agentex/api";
import { changeEventJsonSchema } from "@agentex/core";
import { generateOpenApiDocument } from "trpc-to-openapi";

/** Routes outside the REST bridge that need no token; they live at the server root, not under `/api`. */
const ROOT = [{ url: "/", description: "server root" }];

function publicGet(tag: string, summary: string, description: string, content: Record<string, unknown>) {
  return {
    servers: ROOT,
    get: {
      operationId: summary
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, ""),
      summary,
      description,
      tags: [tag],
      security: [],
      responses: { "200": { description: "OK", content } },
    },
  };
}

const statusBody = (values: string[]) => ({
  "application/json": {
    schema: {
      type: "object",
      properties: {
        status: { type: "string", enum: values },
        store: { type: "string", enum: ["embedded", "postgres"] },
      },
      required: ["status"],
    },
  },
});

const IDEMPOTENCY_PARAMETER = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Retry safely: the same key with the same request replays the first answer (status and body) without doing " +
    "the work again (response header `idempotent-replayed: true`); with a different request it is a 422. Keys are " +
    "the caller's own and kept 24 h; a duplicate sent while the first is in flight waits for it. 1-255 printable ASCII.",
  schema: { type: "string", minLength: 1, maxLength: 255 },
};

/** Every mutation (POST/PUT/DELETE under /api) takes an Idempotency-Key header. */
function addIdempotencyHeader(paths: object) {
  for (const item of Object.values(paths) as Array<Record<string, unknown>>) {
    for (const method of ["post", "put", "patch", "delete"]) {
      const op = item[method] as { parameters?: unknown[] } | undefined;
      if (op) op.parameters = [...(op.parameters ?? []), IDEMPOTENCY_PARAMETER];
    }
  }
}

export function openApiDocument() {
  const doc = generateOpenApiDocument(appRouter, {
    title: "Agent registry",
    description:
      "Agents are registered at build time (stable id, shareable before they run); deployments register their URLs; one deployment at a time is promoted to production. Wire-compatible with the Agentex REST API for agents and deployments.\n\nEvery operation under `/api` needs `Authorization: Bearer <token>` (use **Authorize**). Health, readiness, this document and the docs page are public.",
    version: "1.0.0",
    baseUrl: "/api",
    openApiVersion: "3.1.0",
  });
  const schemes = doc.components?.securitySchemes ?? {};
  schemes.Authorization = {
    type: "http",
    scheme: "bearer",
    description: "A principal token (`agx_pat_...`) or an agent API key.",
  };
  addIdempotencyHeader(doc.paths ?? {});
  const readyz = publicGet(
    "operations",
    "Readiness",
    "The store answers a ping; 503 when it does not.",
    statusBody(["ready", "unavailable"]),
  );
  readyz.get.responses = {
    ...readyz.get.responses,
    "503": { description: "The store is unreachable", content: statusBody(["unavailable"]) },
  } as typeof readyz.get.responses;
  // The change feed is a Fastify route (the bridge has no subscriptions): described here by hand.
  doc.components = {
    ...doc.components,
    schemas: { ...doc.components?.schemas, ChangeEvent: changeEventJsonSchema() as never },
  };
  const schemas = doc.components.schemas ?? {};
  const errorResponse = (description: string, code: string) =>
    `error.${code}` in schemas
      ? {
          description,
          content: { "application/json": { schema: { $ref: `#/components/schemas/error.${code}` } } },
        }
      : { description };
  doc.paths = {
    ...doc.paths,
    "/events": {
      get: {
        operationId: "events-watch",
        summary: "Live change feed (Server-Sent Events)",
        description: [
          "A `text/event-stream` of changes to the agents the caller may read (admins: all), in commit order, across all replicas. The same stream is the tRPC subscription `events.watch`.",
          "",
          "Each event is `id: <n>`, `event: <type>`, `data: <ChangeEvent JSON>`. Types: `agent.created`, `agent.registered`, `agent.deleted`, `deployment.created`, `deployment.ready`, `deployment.deleted`, `production.changed` (`data.from_deployment_id`, `data.to_deployment_id`, `data.cause`: promote | rollback | register), `health.changed` (`data.target`: agent | deployment, `data.from`, `data.to`, `data.reason`).",
          "",
          "Resume with the `Last-Event-ID` header (EventSource sends it on reconnect) or `last_event_id`: missed events are replayed from the retention window (`AGENTEX_EVENTS_RETENTION_MS`). When they are no longer retained, the stream starts with one `reset` event (its id is where it resumed) and the client must re-read the state it needs.",
          "",
          'A quiet stream gets a `: keep-alive` comment every `AGENTEX_EVENTS_HEARTBEAT_MS`; the token is re-checked then. A stream ends with `event: error` and `{code, message}` when its token is revoked (UNAUTHORIZED), when it falls more than `AGENTEX_EVENTS_MAX_LAG` events behind (TOO_MANY_REQUESTS, "slow consumer") or when the server shuts down (SERVICE_UNAVAILABLE).',
        ].join("\n"),
        tags: ["events"],
        security: [{ Authorization: [] }],
        parameters: [
          {
            name: "agent_id",
            in: "query",
            required: false,
            description: "Only this agent's events (404 if the caller may not read it).",
            schema: { type: "string", format: "uuid" },
          },
          {
            name: "last_event_id",
            in: "query",
            required: false,
            description: "Resume after this event id (the Last-Event-ID header wins).",
            schema: { type: "string", pattern: "^\\d{1,15}$" },
          },
          {
            name: "Last-Event-ID",
            in: "header",
            required: false,
            description: "Resume after this event id.",
            schema: { type: "string", pattern: "^\\d{1,15}$" },
          },
        ],
        responses: {
          "200": {
            description: "The event stream; each `data:` line is a ChangeEvent.",
            content: { "text/event-stream": { schema: { $ref: "#/components/schemas/ChangeEvent" } } },
          },
          "401": errorResponse("Missing or invalid token", "UNAUTHORIZED"),
          "404": errorResponse("The agent does not exist or the caller may not read it", "NOT_FOUND"),
          "422": errorResponse("A malformed agent_id or event id", "UNPROCESSABLE_CONTENT"),
          "429": errorResponse(
            "Too many open streams for this principal on this server (`AGENTEX_EVENTS_MAX_PER_PRINCIPAL`)",
            "TOO_MANY_REQUESTS",
          ),
        },
      },
    },
    "/healthz": publicGet("operations", "Liveness", "The process is up.", statusBody(["ok"])),
    "/readyz": readyz,
    "/api/openapi.json": publicGet("operations", "OpenAPI document", "This document.", {
      "application/json": { schema: { type: "object" } },
    }),
    "/docs": publicGet("operations", "API reference", "This interactive reference (HTML).", {
      "text/html": { schema: { type: "string" } },
    }),
  };
  return doc;
}
