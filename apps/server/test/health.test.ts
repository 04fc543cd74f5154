import { TEST_STORE } from "@agentex/db/testing";
import { afterAll, describe, expect, it } from "vitest";
import { useServer } from "./helpers.ts";
import { HealthTarget, waitFor } from "@agentex/testing";
import { openSse } from "./sse.ts";

const FAILURES = 2;
const SUCCESSES = 3;

describe(`health checks (${TEST_STORE})`, () => {
  const s = useServer({
    health: { path: "/healthz", intervalMs: 400, timeoutMs: 300, failures: FAILURES, successes: SUCCESSES },
    feed: { heartbeatMs: 1_000, pollMs: 60_000 },
  });
  const targets: HealthTarget[] = [];
  afterAll(async () => {
    for (const t of targets) await t.stop();
  });

  async function target() {
    const t = await new HealthTarget().start();
    targets.push(t);
    return t;
  }

  async function legacyAgent(url: string) {
    const name = `hc-${Math.random().toString(16).slice(2, 10)}`;
    const res = await s.api("POST", "/api/agents/register", {
      body: { name, description: "", acp_url: url, acp_type: "async" },
    });
    expect(res.status).toBe(200);
    return res.body as { id: string; name: string };
  }

  const agent = async (id: string) => (await s.api("GET", `/api/agents/${id}`)).body;

  it("an agent whose server goes down turns Unhealthy after N failures, and Ready again after M successes when it comes back", async () => {
    const t = await target();
    const a = await legacyAgent(`${t.url}/acp`);
    const feed = await openSse(`${s.url}/api/events?agent_id=${a.id}`, { token: s.adminToken });
    await waitFor(() => (t.hits >= 2 ? true : undefined));
    expect(t.paths.every((p) => p === "/acp/healthz")).toBe(true); // the registered URL + the health path, nothing else
    expect((await agent(a.id)).status).toBe("Ready");

    await t.stop();
    const down = await waitFor(async () => {
      const row = await agent(a.id);
      return row.status === "Unhealthy" ? row : undefined;
    });
    expect(down.status_reason).toMatch(
      new RegExp(`^health check failed ${FAILURES} times in a row: connection failed`),
    );
    const [went] = await feed.take(1);
    expect(went).toMatchObject({
      event: "health.changed",
      data: { agent_id: a.id, data: { target: "agent", from: "Ready", to: "Unhealthy" } },
    });

    // Back, but only M-1 good answers before failing again: not enough to be Ready.
    t.mode = "ok";
    t.okBudget = SUCCESSES - 1;
    const before = t.hits;
    await t.start();
    await waitFor(() => (t.hits >= before + SUCCESSES + 2 ? true : undefined));
    expect((await agent(a.id)).status).toBe("Unhealthy");

    t.okBudget = null;
    t.mode = "ok";
    const up = await waitFor(async () => {
      const row = await agent(a.id);
      return row.status === "Ready" ? row : undefined;
    });
    expect(up.status_reason).toBeNull();
    const [back] = await feed.take(1);
    expect(back).toMatchObject({
      event: "health.changed",
      data: { data: { from: "Unhealthy", to: "Ready" } },
    });
    feed.close();
  });

  it("a timeout, an error status and a redirect are failures; the redirect is never followed", async () => {
    const elsewhere = await target();
    const t = await target();
    t.mode = "redirect";
    t.redirectTo = `${elsewhere.url}/healthz`;
    const a = await legacyAgent(t.url);
    const down = await waitFor(async () => {
      const row = await agent(a.id);
      return row.status === "Unhealthy" ? row : undefined;
    });
    expect(down.status_reason).toMatch(/HTTP 302/);
    expect(elsewhere.hits).toBe(0);

    const slow = await target();
    slow.mode = "slow";
    const b = await legacyAgent(slow.url);
    const late = await waitFor(async () => {
      const row = await agent(b.id);
      return row.status === "Unhealthy" ? row : undefined;
    });
    expect(late.status_reason).toMatch(/no answer within 300 ms/);
  });

  it("a register declares the agent Ready again (the lifecycle wins); the checks then start over", async () => {
    const t = await target();
    t.mode = "fail";
    const a = await legacyAgent(t.url);
    await waitFor(async () => ((await agent(a.id)).status === "Unhealthy" ? true : undefined));
    const again = await s.api("POST", "/api/agents/register", {
      body: { name: a.name, description: "redeployed", acp_url: t.url, acp_type: "async" },
    });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("Ready");
    // Still failing: Unhealthy again, after a fresh run of N failures.
    const down = await waitFor(async () => {
      const row = await agent(a.id);
      return row.status === "Unhealthy" ? row : undefined;
    });
    expect(down.status_reason).toMatch(new RegExp(`failed ${FAILURES} times`));
  });

  it("Ready deployments get a health field (their lifecycle status stays Ready); BuildOnly and deleted agents are never probed", async () => {
    const t = await target();
    const name = `hcd-${Math.random().toString(16).slice(2, 10)}`;
    const built = (await s.api("POST", "/api/agents/register-build", { body: { name, description: "" } }))
      .body;
    expect(built.status).toBe("BuildOnly");
    const dep = (
      await s.api("POST", `/api/agents/${built.id}/deployments`, { body: { docker_image: "img:test" } })
    ).body;
    expect(dep.health).toBe("Unknown");
    await s.api("POST", "/api/agents/register", {
      body: {
        name,
        description: "",
        acp_url: t.url,
        acp_type: "async",
        registration_metadata: { deployment_id: dep.id },
      },
    });
    const healthy = await waitFor(async () => {
      const row = (await s.api("GET", `/api/agents/${built.id}/deployments/${dep.id}`)).body;
      return row.health === "Healthy" ? row : undefined;
    });
    expect(healthy.status).toBe("Ready");
    // The agent itself is still BuildOnly (never probed, never changed).
    expect((await agent(built.id)).status).toBe("BuildOnly");

    t.mode = "fail";
    const sick = await waitFor(async () => {
      const row = (await s.api("GET", `/api/agents/${built.id}/deployments/${dep.id}`)).body;
      return row.health === "Unhealthy" ? row : undefined;
    });
    expect(sick.status).toBe("Ready");
    expect(sick.health_reason).toMatch(/HTTP 503/);

    // A deleted agent: its probes stop.
    const gone = await target();
    const d = await legacyAgent(gone.url);
    await waitFor(() => (gone.hits >= 1 ? true : undefined));
    expect((await s.api("DELETE", `/api/agents/${d.id}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500)); // a probe in flight may still land
    const after = gone.hits;
    await new Promise((r) => setTimeout(r, 1_200)); // three intervals
    expect(gone.hits).toBe(after);
  });
});
