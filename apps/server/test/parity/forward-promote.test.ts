import { TEST_STORE } from "@agentex/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useServer } from "../helpers.ts";
import { ok, raw, registeredDeployment, startUpstream, uniqueName, type Upstream } from "./fixtures.ts";

/**
 * A promotion moves real traffic: two small HTTP servers stand in for two
 * deployments of one agent, and forwarded requests follow the production
 * deployment. During a storm of promotions, every forwarded request is
 * answered (none lost) by exactly one deployment, and any request that starts
 * after a promotion returned and ends before the next one starts is answered
 * by the deployment just promoted (none misrouted).
 */
describe(`Agentex parity: forwarding follows the promote (${TEST_STORE})`, () => {
  const s = useServer();
  const up: Record<"A" | "B", Upstream> = {} as never;
  const dep: Record<"A" | "B", string> = { A: "", B: "" };
  const agent = { id: "", name: "" };
  const key = "promote-storm-key-value";
  const forward = (tag: string) =>
    raw(s, "POST", `/api/agents/forward/name/${agent.name}/hook?tag=${tag}`, {
      headers: { "x-agent-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ tag }),
    });
  const promote = (to: "A" | "B") => ok(s, "POST", `/api/agents/${agent.id}/deployments/${dep[to]}/promote`);

  beforeAll(async () => {
    up.A = await startUpstream("A");
    up.B = await startUpstream("B");
    agent.name = uniqueName("storm");
    agent.id = (
      await ok(s, "POST", "/api/agents/register-build", { body: { name: agent.name, description: "x" } })
    ).id;
    dep.A = await registeredDeployment(s, agent.name, up.A.url);
    dep.B = await registeredDeployment(s, agent.name, up.B.url);
    await ok(s, "POST", "/api/agent_api_keys", { body: { agent_id: agent.id, name: "storm", api_key: key } });
  });
  afterAll(async () => {
    await up.A?.close();
    await up.B?.close();
  });

  it("before any promote the agent has no production URL: 404", async () => {
    const res = await forward("none");
    expect(res.status).toBe(404);
    expect(up.A.received.length + up.B.received.length).toBe(0);
  });

  it("promote A, then B, then A: the next forwarded request reaches the one just promoted", async () => {
    for (const target of ["A", "B", "A", "B"] as const) {
      await promote(target);
      for (let i = 0; i < 3; i++) {
        const res = await forward(`seq-${target}-${i}`);
        expect(res.status).toBe(200);
        expect(res.json.label).toBe(target);
      }
    }
  });

  it("a promote storm: no forwarded request lost or misrouted", async () => {
    const receivedBefore = up.A.received.length + up.B.received.length;
    const promotions: Array<{ to: "A" | "B"; start: number; end: number }> = [];
    const forwards: Array<{
      tag: string;
      start: number;
      end: number;
      status: number;
      label: string | undefined;
    }> = [];
    let stop = false;
    let n = 0;
    const client = async () => {
      while (!stop) {
        const tag = `storm-${n++}`;
        const start = performance.now();
        const res = await forward(tag);
        forwards.push({ tag, start, end: performance.now(), status: res.status, label: res.json?.label });
      }
    };
    const promoter = async () => {
      for (let i = 0; i < 12; i++) {
        const to = i % 2 === 0 ? "A" : "B";
        const start = performance.now();
        await promote(to);
        promotions.push({ to, start, end: performance.now() });
        // A quiet spell after each promotion, long enough for whole requests to run inside it.
        await new Promise((r) => setTimeout(r, 400));
      }
      stop = true;
    };
    await Promise.all([promoter(), ...Array.from({ length: 6 }, client)]);

    // None lost: every request answered 200, by one deployment, which saw it exactly once.
    expect(forwards.length).toBeGreaterThan(20);
    for (const f of forwards) expect(f.status, f.tag).toBe(200);
    expect(up.A.received.length + up.B.received.length - receivedBefore).toBe(forwards.length);
    const seenBy = new Map<string, string[]>();
    for (const u of [up.A, up.B]) {
      for (const r of u.received) {
        const tag = new URL(r.url, "http://x").searchParams.get("tag") ?? "";
        seenBy.set(tag, [...(seenBy.get(tag) ?? []), u.label]);
      }
    }
    for (const f of forwards) expect(seenBy.get(f.tag), f.tag).toEqual([f.label]);

    // None misrouted: a request wholly inside the window after promotion k (and before k+1) went to k's target.
    let checked = 0;
    for (const f of forwards) {
      const k = promotions.findLastIndex((p) => p.end <= f.start);
      if (k < 0) continue;
      const next = promotions[k + 1];
      if (next && f.end >= next.start) continue;
      expect(f.label, `${f.tag} after promotion ${k} to ${promotions[k]!.to}`).toBe(promotions[k]!.to);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
    const agentRow = await ok(s, "GET", `/api/agents/${agent.id}`);
    expect(agentRow.production_deployment_id).toBe(dep.B);
    expect(agentRow.acp_url).toBe(up.B.url);
    console.log(
      `promote storm (${TEST_STORE}): ${promotions.length} promotions, ${forwards.length} forwarded requests, ${checked} checked against the window they ran in`,
    );
  }, 60_000);
});
