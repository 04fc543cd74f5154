/** The REST bridge over real HTTP: the agent routes and the exact Agent shape. */
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { useServer } from "../helpers.ts";
import {
  AGENT_KEYS,
  uniqueName,
  expectIso,
  expectAgentShape,
  expectErrorBody,
  restFixtures,
} from "./support.ts";

describe(`REST bridge over HTTP (${TEST_STORE})`, () => {
  const s = useServer();
  const { registerBuild } = restFixtures(s);

  describe("agents", () => {
    it("POST /agents/register-build creates a BuildOnly agent with the exact Agent shape", async () => {
      const name = uniqueName();
      const res = await s.api("POST", "/api/agents/register-build", {
        body: { name, description: "built", registration_metadata: { team: "x" }, agent_input_type: "json" },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      expectAgentShape(res.body);
      expect(res.body).toMatchObject({
        name,
        description: "built",
        status: "BuildOnly",
        acp_url: null,
        agent_input_type: "json",
        registration_metadata: { team: "x" },
        registered_at: null,
        production_deployment_id: null,
      });
      expect(typeof res.body.status_reason).toBe("string");
      expect(res.body).not.toHaveProperty("agent_api_key");
      // Idempotent by name: same id, unchanged.
      const again = await s.api("POST", "/api/agents/register-build", {
        body: { name, description: "other" },
      });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(res.body);
    });

    it("GET /agents/{agent_id} and GET /agents/name/{agent_name} return the Agent", async () => {
      const agent = await registerBuild();
      const byId = await s.api("GET", `/api/agents/${agent.id}`);
      expect(byId.status).toBe(200);
      expectAgentShape(byId.body);
      expect(byId.body).toEqual(agent);
      const byName = await s.api("GET", `/api/agents/name/${agent.name}`);
      expect(byName.status).toBe(200);
      expect(byName.body).toEqual(agent);
    });

    it("GET /agents is a bare JSON array honouring limit, page_number, order_by, order_direction and status", async () => {
      const prefix = uniqueName("lst");
      const made = [];
      for (const suffix of ["c", "a", "b"]) made.push(await registerBuild(`${prefix}-${suffix}`));
      const all = await s.api("GET", "/api/agents?limit=1000");
      expect(all.status).toBe(200);
      expect(Array.isArray(all.body)).toBe(true);
      for (const a of all.body) expectAgentShape(a);
      const ids = all.body.map((a: { id: string }) => a.id);
      for (const m of made) expect(ids).toContain(m.id);

      const byName = await s.api("GET", "/api/agents?order_by=name&order_direction=asc&limit=1000");
      expect(byName.status).toBe(200);
      const names = byName.body.map((a: { name: string }) => a.name);
      expect(names).toEqual([...names].sort());

      const desc = await s.api("GET", "/api/agents?order_by=name&order_direction=desc&limit=1000");
      expect(desc.body.map((a: { name: string }) => a.name)).toEqual([...names].reverse());

      const page1 = await s.api("GET", "/api/agents?order_by=name&order_direction=asc&limit=2&page_number=1");
      const page2 = await s.api("GET", "/api/agents?order_by=name&order_direction=asc&limit=2&page_number=2");
      expect(page1.body).toHaveLength(2);
      expect([...page1.body, ...page2.body].map((a: { name: string }) => a.name)).toEqual(
        names.slice(0, 2 + page2.body.length),
      );

      const buildOnly = await s.api("GET", "/api/agents?status=BuildOnly&limit=1000");
      expect(buildOnly.status).toBe(200);
      expect(buildOnly.body.length).toBeGreaterThanOrEqual(3);
      expect(buildOnly.body.every((a: { status: string }) => a.status === "BuildOnly")).toBe(true);
      const ready = await s.api("GET", "/api/agents?status=Ready&limit=1000");
      expect(ready.body.every((a: { status: string }) => a.status === "Ready")).toBe(true);
      expect(ready.body.map((a: { id: string }) => a.id)).not.toContain(made[0]!.id);

      const defaults = await s.api("GET", "/api/agents");
      expect(defaults.status).toBe(200);
      expect(Array.isArray(defaults.body)).toBe(true);
      expect(defaults.body.length).toBeLessThanOrEqual(50);
    });

    it("POST /agents/register (legacy) returns the Agent plus agent_api_key, the same key every time", async () => {
      const name = uniqueName();
      const body = { name, description: "live", acp_url: "http://live.svc:8000", acp_type: "sync" };
      const first = await s.api("POST", "/api/agents/register", { body });
      expect(first.status).toBe(200);
      expect(Object.keys(first.body).sort()).toEqual([...AGENT_KEYS, "agent_api_key"].sort());
      const { agent_api_key, ...agent } = first.body;
      expectAgentShape(agent);
      expect(agent).toMatchObject({
        name,
        status: "Ready",
        acp_url: "http://live.svc:8000",
        acp_type: "sync",
      });
      expectIso(agent.registered_at);
      expect(typeof agent_api_key).toBe("string");
      expect(agent_api_key.length).toBeGreaterThan(16);
      const second = await s.api("POST", "/api/agents/register", {
        body: { ...body, acp_url: "http://live2.svc:8000" },
      });
      expect(second.status).toBe(200);
      expect(second.body.id).toBe(agent.id);
      expect(second.body.acp_url).toBe("http://live2.svc:8000");
      expect(second.body.agent_api_key).toBe(agent_api_key);
      // The key authenticates as the agent, which may read itself.
      const self = await s.api("GET", `/api/agents/${agent.id}`, { token: agent_api_key });
      expect(self.status).toBe(200);
      expect(self.body.id).toBe(agent.id);
    });

    it("DELETE /agents/{agent_id} returns {id, message} and the agent is gone (404 after)", async () => {
      const agent = await registerBuild();
      const res = await s.api("DELETE", `/api/agents/${agent.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: agent.id, message: `Agent '${agent.id}' deleted successfully` });
      const get = await s.api("GET", `/api/agents/${agent.id}`);
      expectErrorBody(get, 404, "NOT_FOUND");
      expect(get.body.message).toMatch(/not found/);
      expectErrorBody(await s.api("GET", `/api/agents/name/${agent.name}`), 404, "NOT_FOUND");
      const list = await s.api("GET", "/api/agents?limit=1000");
      expect(list.body.map((a: { id: string }) => a.id)).not.toContain(agent.id);
      const again = await s.api("DELETE", `/api/agents/${agent.id}`);
      expectErrorBody(again, 404, "NOT_FOUND");
      expect(again.body.message).toMatch(/not found/);
    });

    it("DELETE /agents/name/{agent_name} returns {id, message} naming the agent by name", async () => {
      const agent = await registerBuild();
      const res = await s.api("DELETE", `/api/agents/name/${agent.name}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: agent.id, message: `Agent '${agent.name}' deleted successfully` });
      expectErrorBody(await s.api("DELETE", `/api/agents/name/${agent.name}`), 404, "NOT_FOUND");
    });
  });
});
