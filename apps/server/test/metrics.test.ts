import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { buildServer } from "../src/index.ts";
import { SECRET, useServer } from "./helpers.ts";

/** The value of one Prometheus sample whose labels include `labels`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

describe(`/metrics (${TEST_STORE})`, () => {
  const s = useServer();

  it("serves Prometheus text without a token when none is configured", async () => {
    const text = await scrape(s.url);
    expect(text).toContain("# TYPE agentex_http_requests_total counter");
    expect(text).toContain("# TYPE agentex_http_request_duration_seconds histogram");
    expect(text).toContain("process_cpu_user_seconds_total");
  });

  it("counts requests and latency per procedure and status on both transports", async () => {
    const before = await scrape(s.url);
    const restOk = { transport: "rest", procedure: "agents.list", method: "GET", status: "200" };
    const rest401 = { ...restOk, status: "401" };
    const trpcOk = { transport: "trpc", procedure: "agents.list", method: "GET", status: "200" };
    const restGet404 = { transport: "rest", procedure: "agents.get", method: "GET", status: "404" };

    expect((await s.api("GET", "/api/agents")).status).toBe(200);
    expect((await s.api("GET", "/api/agents")).status).toBe(200);
    expect((await s.api("GET", "/api/agents", { token: null })).status).toBe(401);
    expect((await s.api("GET", `/api/agents/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await s.api("GET", "/trpc/agents.list?input=%7B%7D")).status).toBe(200);
    // A batch counts once per procedure in it; an unknown name is labelled `unknown`, not echoed.
    const batchInput = encodeURIComponent(JSON.stringify({ 0: {} }));
    expect((await s.api("GET", `/trpc/agents.list,me.get?batch=1&input=${batchInput}`)).status).toBe(200);
    expect((await s.api("GET", "/trpc/no.such.procedure-xyz")).status).toBe(404);

    const after = await scrape(s.url);
    const delta = (labels: Record<string, string>) =>
      (sample(after, "agentex_http_requests_total", labels) ?? 0) -
      (sample(before, "agentex_http_requests_total", labels) ?? 0);
    expect(delta(restOk)).toBe(2);
    expect(delta(rest401)).toBe(1);
    expect(delta(restGet404)).toBe(1);
    expect(delta(trpcOk)).toBe(2);
    expect(delta({ transport: "trpc", procedure: "me.get", status: "200" })).toBe(1);
    expect(delta({ transport: "trpc", procedure: "unknown", status: "404" })).toBe(1);
    expect(after).not.toContain("no.such.procedure-xyz");
    expect(sample(after, "agentex_http_request_duration_seconds_count", restOk)).toBeGreaterThanOrEqual(2);
    expect(
      sample(after, "agentex_http_request_duration_seconds_bucket", { ...restOk, le: "+Inf" }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(after, "agentex_http_request_duration_seconds_sum", restOk)).toBeGreaterThan(0);
    // Label values are route templates and procedure names, never raw ids from the URL.
    expect(after).not.toMatch(/procedure="\/api\/agents\/[0-9a-f-]{36}"/);
    expect(
      sample(after, "agentex_http_requests_total", { transport: "http", procedure: "/healthz" }),
    ).toBeUndefined();
    await s.api("GET", "/healthz", { token: null });
    expect(
      sample(await scrape(s.url), "agentex_http_requests_total", {
        transport: "http",
        procedure: "/healthz",
        status: "200",
      }),
    ).toBe(1);
  });

  it("labels by the procedure the router ran: the fast path, the adapter, and REST refused before the procedure", async () => {
    const before = await scrape(s.url);
    const input = encodeURIComponent(JSON.stringify({ 0: {}, 1: {} }));
    // A streaming batch goes through tRPC's own adapter, not the fast path.
    const streamed = await fetch(`${s.url}/trpc/agents.list,me.get?batch=1&input=${input}`, {
      headers: { authorization: `Bearer ${s.adminToken}`, "trpc-accept": "application/jsonl" },
    });
    expect(streamed.status).toBe(200);
    await streamed.text();
    // One known call and one unknown name in a batch: counted once each.
    expect((await s.api("GET", `/trpc/agents.list,no.such-xyz?batch=1&input=${input}`)).status).toBe(207);
    // Refused before the procedure ran: still the route's procedure.
    const text = await s.api("POST", "/api/agents/register-build", {
      body: "x",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    const after = await scrape(s.url);
    const delta = (labels: Record<string, string>) =>
      (sample(after, "agentex_http_requests_total", labels) ?? 0) -
      (sample(before, "agentex_http_requests_total", labels) ?? 0);
    expect(delta({ transport: "trpc", procedure: "agents.list", status: "200" })).toBe(1);
    expect(delta({ transport: "trpc", procedure: "me.get", status: "200" })).toBe(1);
    expect(delta({ transport: "trpc", procedure: "agents.list", status: "207" })).toBe(1);
    expect(delta({ transport: "trpc", procedure: "unknown", status: "207" })).toBe(1);
    expect(
      delta({ transport: "rest", procedure: "agents.registerBuild", method: "POST", status: "415" }),
    ).toBe(1);
    expect(after).not.toContain("no.such-xyz");
  });

  it("reports database pool usage", async () => {
    const text = await scrape(s.url);
    const total = sample(text, "agentex_db_pool_connections", { state: "total" });
    const idle = sample(text, "agentex_db_pool_connections", { state: "idle" });
    const waiting = sample(text, "agentex_db_pool_connections", { state: "waiting" });
    const stats = s.db.poolStats();
    expect(total).toBeGreaterThanOrEqual(1);
    expect(idle).toBeGreaterThanOrEqual(0);
    expect(idle!).toBeLessThanOrEqual(total!);
    expect(waiting).toBe(0);
    expect(total).toBe(stats.total);
  });

  it("reports each background worker: its rounds, its failures, and whether this replica holds its lease", async () => {
    const text = await scrape(s.url);
    // The feed hub polls the outbox on a timer; the retention purge is a singleton under a named lease.
    expect(sample(text, "agentex_worker_ticks", { worker: "feed" })).toBeGreaterThanOrEqual(0);
    expect(sample(text, "agentex_worker_failures", { worker: "feed" })).toBe(0);
    expect(sample(text, "agentex_worker_lease_held", { worker: "event-retention" })).toBe(1);
    // Per-replica workers hold no lease, so they have no lease sample.
    expect(sample(text, "agentex_worker_lease_held", { worker: "feed" })).toBeUndefined();
  });

  it("counts lifecycle events: agents created and deleted, registrations, deployments, promotions", async () => {
    const events = ["agent_created", "agent_deleted", "registration", "deployment_created", "promotion"];
    const count = (text: string, event: string) => sample(text, "agentex_lifecycle_events_total", { event });
    const before = await scrape(s.url);
    for (const event of events) expect(count(before, event), event).toBeTypeOf("number");

    const name = `metrics-${Date.now()}`;
    const agent = await s.api("POST", "/api/agents/register-build", {
      body: { name, description: "counted" },
    });
    expect(agent.status).toBe(200);
    const id = agent.body.id as string;
    const deployment = await s.api("POST", `/api/agents/${id}/deployments`, {
      body: { docker_image: "img:1" },
    });
    expect(deployment.status).toBe(200);
    const registered = await s.api("POST", "/api/agents/register", {
      body: {
        name,
        description: "counted",
        agent_id: id,
        acp_url: "http://agent.internal:8000",
        acp_type: "async",
        registration_metadata: { deployment_id: deployment.body.id },
      },
    });
    expect(registered.status).toBe(200);
    const promoted = await s.api("POST", `/api/agents/${id}/deployments/${deployment.body.id}/promote`);
    expect(promoted.status).toBe(200);
    expect((await s.api("DELETE", `/api/agents/${id}`)).status).toBe(200);

    const after = await scrape(s.url);
    for (const event of events)
      expect((count(after, event) ?? 0) - (count(before, event) ?? 0), event).toBe(1);
  });

  it("requires the metrics token when one is configured", async () => {
    const app = await buildServer({
      database: s.db,
      secretKey: SECRET,
      logLevel: "silent",
      metricsToken: "scrape-secret-123",
    });
    try {
      const none = await app.inject({ method: "GET", url: "/metrics" });
      expect(none.statusCode).toBe(401);
      expect(none.json()).toMatchObject({ status_code: 401, code: "UNAUTHORIZED" });
      const wrong = await app.inject({
        method: "GET",
        url: "/metrics",
        headers: { authorization: "Bearer scrape-secret-124" },
      });
      expect(wrong.statusCode).toBe(401);
      // An API token is not a metrics token.
      const api = await app.inject({
        method: "GET",
        url: "/metrics",
        headers: { authorization: `Bearer ${s.adminToken}` },
      });
      expect(api.statusCode).toBe(401);
      const ok = await app.inject({
        method: "GET",
        url: "/metrics",
        headers: { authorization: "Bearer scrape-secret-123" },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain("agentex_lifecycle_events_total");
    } finally {
      await app.close();
    }
  });
});
