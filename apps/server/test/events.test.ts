import { createClient } from "@agentex/client";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it, vi } from "vitest";
import { useServer } from "./helpers.ts";
import { openSse } from "./sse.ts";

describe(`change feed over HTTP (${TEST_STORE})`, () => {
  const s = useServer({ feed: { maxPerPrincipal: 2, heartbeatMs: 300, pollMs: 60_000 } });

  async function agentWithReadyDeployment(token = s.adminToken) {
    const name = `feed-${Math.random().toString(16).slice(2, 10)}`;
    const agent = (
      await s.api("POST", "/api/agents/register-build", { token, body: { name, description: "" } })
    ).body;
    const dep = (
      await s.api("POST", `/api/agents/${agent.id}/deployments`, {
        token,
        body: { docker_image: "img:test" },
      })
    ).body;
    const reg = await s.api("POST", "/api/agents/register", {
      token,
      body: {
        name,
        description: "",
        acp_url: `http://${name}.svc:8000`,
        acp_type: "async",
        registration_metadata: { deployment_id: dep.id },
      },
    });
    expect(reg.status).toBe(200);
    return { agent, dep };
  }

  it("GET /api/events: 401 without a token, 422 naming a bad field, 404 for an agent the caller cannot read", async () => {
    const none = await openSse(`${s.url}/api/events`, { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ status_code: 401, code: "UNAUTHORIZED" });
    const bad = await openSse(`${s.url}/api/events?agent_id=nope`, { token: s.adminToken });
    expect(bad.status).toBe(422);
    expect(bad.body.issues[0].field).toBe("agent_id");
    const badId = await openSse(`${s.url}/api/events`, { token: s.adminToken, lastEventId: "abc" });
    expect(badId.status).toBe(422);
    expect(badId.body.issues[0].field).toBe("last_event_id");
    const other = await s.principal();
    const { agent } = await agentWithReadyDeployment();
    const hidden = await openSse(`${s.url}/api/events?agent_id=${agent.id}`, { token: other.token });
    expect(hidden.status).toBe(404);
    expect(hidden.body.message).toMatch(/not found/);
  });

  it("streams a promote as production.changed with from/to, keeps idle streams alive, and resumes by Last-Event-ID", async () => {
    const { agent, dep } = await agentWithReadyDeployment();
    const stream = await openSse(`${s.url}/api/events?agent_id=${agent.id}`, { token: s.adminToken });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    // Keep-alive comments every 300 ms while idle; polled, not slept on, so a loaded machine cannot flake it.
    await vi.waitFor(() => expect(stream.comments).toBeGreaterThanOrEqual(1), { timeout: 5_000 });
    const promoted = await s.api("POST", `/api/agents/${agent.id}/deployments/${dep.id}/promote`);
    expect(promoted.status).toBe(200);
    const [msg] = await stream.take(1);
    expect(msg).toMatchObject({
      event: "production.changed",
      data: { type: "production.changed", agent_id: agent.id, deployment_id: dep.id },
    });
    expect(msg!.data.data).toMatchObject({
      from_deployment_id: null,
      to_deployment_id: dep.id,
      cause: "promote",
    });
    expect(msg!.id).toBe(String(msg!.data.id));
    stream.close();

    // Changes made while disconnected are replayed, in order, on reconnect.
    const dep2 = (
      await s.api("POST", `/api/agents/${agent.id}/deployments`, { body: { docker_image: "img:test" } })
    ).body;
    const del = await s.api("DELETE", `/api/agents/${agent.id}/deployments/${dep2.id}`);
    expect(del.status).toBe(200);
    const resumed = await openSse(`${s.url}/api/events?agent_id=${agent.id}`, {
      token: s.adminToken,
      lastEventId: msg!.id!,
    });
    const replay = await resumed.take(2);
    expect(replay.map((m) => [m.event, m.data.deployment_id])).toEqual([
      ["deployment.created", dep2.id],
      ["deployment.deleted", dep2.id],
    ]);
    resumed.close();
  });

  it("caps open streams per principal with a 429 in the SPEC error body", async () => {
    const p = await s.principal();
    const a = await openSse(`${s.url}/api/events`, { token: p.token });
    const b = await openSse(`${s.url}/api/events`, { token: p.token });
    const c = await openSse(`${s.url}/api/events`, { token: p.token });
    expect([a.status, b.status, c.status]).toEqual([200, 200, 429]);
    expect(c.body).toMatchObject({ status_code: 429, code: "TOO_MANY_REQUESTS" });
    a.close();
    await new Promise((r) => setTimeout(r, 200));
    const d = await openSse(`${s.url}/api/events`, { token: p.token });
    expect(d.status).toBe(200);
    b.close();
    d.close();
  });

  it("ends a stream whose token is revoked, with an error event", async () => {
    const created = await s.api("POST", "/api/principals", {
      body: { name: `revoked-${Date.now()}`, kind: "user" },
    });
    expect(created.status).toBe(200);
    const stream = await openSse(`${s.url}/api/events`, { token: created.body.token });
    expect(stream.status).toBe(200);
    const revoked = await s.api("DELETE", `/api/tokens/${created.body.token_id}`);
    expect(revoked.status).toBe(200);
    const end = await stream.next(3_000);
    expect(end).toMatchObject({ event: "error", data: { code: "UNAUTHORIZED" } });
  });

  it("the typed client subscribes over SSE (events.watch) and receives the change", async () => {
    const { agent, dep } = await agentWithReadyDeployment();
    const client = createClient({ url: s.url, token: s.adminToken });
    const received: Array<{ id: number; type: string }> = [];
    let started!: () => void;
    const ready = new Promise<void>((r) => (started = r));
    const sub = client.events.watch.subscribe(
      { agent_id: agent.id },
      {
        onStarted: () => started(),
        onData: (tracked) => received.push(tracked.data),
        onError: (err) => received.push({ id: -1, type: `error: ${err.message}` }),
      },
    );
    await ready;
    await new Promise((r) => setTimeout(r, 200));
    await client.deployments.promote.mutate({ agent_id: agent.id, deployment_id: dep.id });
    const deadline = Date.now() + 5_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    sub.unsubscribe();
    expect(received[0]).toMatchObject({
      type: "production.changed",
      agent_id: agent.id,
      deployment_id: dep.id,
    });
  });
});
