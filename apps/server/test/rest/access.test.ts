/** The REST bridge over real HTTP: identity and access routes (me, principals, tokens, grants, agent keys) and the OpenAPI document. */
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { useServer } from "../helpers.ts";
import { UUID, uniqueName, expectIso, expectErrorBody, restFixtures } from "./support.ts";

describe(`REST bridge over HTTP (${TEST_STORE})`, () => {
  const s = useServer();
  const { registerBuild } = restFixtures(s);

  describe("identity and access routes", () => {
    it("GET /me, principals, tokens, grants and agent API keys answer with their shapes", async () => {
      const me = await s.api("GET", "/api/me");
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ admin: true, agent_id: null });
      expect(me.body.id).toMatch(UUID);

      const created = await s.api("POST", "/api/principals", {
        body: { name: uniqueName("p"), kind: "service_account" },
      });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ kind: "service_account", admin: false, can_create_agents: false });
      expect(typeof created.body.token).toBe("string");
      const pid = created.body.id as string;

      const principals = await s.api("GET", "/api/principals");
      expect(principals.status).toBe(200);
      expect(Array.isArray(principals.body)).toBe(true);
      expect(principals.body.map((p: { id: string }) => p.id)).toContain(pid);

      const token = await s.api("POST", `/api/principals/${pid}/tokens`, { body: { name: "second" } });
      expect(token.status).toBe(200);
      expect(typeof token.body.token).toBe("string");
      expect((await s.api("GET", "/api/me", { token: token.body.token })).body.id).toBe(pid);
      const revoked = await s.api("DELETE", `/api/tokens/${token.body.id}`);
      expect(revoked.status).toBe(200);
      expectErrorBody(await s.api("GET", "/api/me", { token: token.body.token }), 401, "UNAUTHORIZED");

      const agent = await registerBuild();
      const put = await s.api("PUT", `/api/agents/${agent.id}/grants/${pid}`, { body: { role: "viewer" } });
      expect(put.status).toBe(200);
      const grants = await s.api("GET", `/api/agents/${agent.id}/grants`);
      expect(grants.status).toBe(200);
      expect(Array.isArray(grants.body)).toBe(true);
      const grant = grants.body.find((g: { principal_id: string }) => g.principal_id === pid);
      expect(grant).toMatchObject({ principal_id: pid, role: "viewer" });
      expectIso(grant.created_at);
      expect((await s.api("GET", `/api/agents/${agent.id}`, { token: created.body.token })).status).toBe(200);
      const ungrant = await s.api("DELETE", `/api/agents/${agent.id}/grants/${pid}`);
      expect(ungrant.status).toBe(200);
      expectErrorBody(
        await s.api("GET", `/api/agents/${agent.id}`, { token: created.body.token }),
        404,
        "NOT_FOUND",
      );

      const key = await s.api("POST", "/api/agent_api_keys", {
        body: { agent_id: agent.id, name: "ext", api_key_type: "external" },
      });
      expect(key.status).toBe(200);
      expect(typeof key.body.api_key).toBe("string");
      const keys = await s.api("GET", `/api/agent_api_keys?agent_id=${agent.id}`);
      expect(keys.status).toBe(200);
      expect(Array.isArray(keys.body)).toBe(true);
      expect(keys.body.map((k: { id: string }) => k.id)).toContain(key.body.id);
      expect(JSON.stringify(keys.body)).not.toContain(key.body.api_key);
      const revokeKey = await s.api("DELETE", `/api/agent_api_keys/${key.body.id}`);
      expect(revokeKey.status).toBe(200);
    });
  });

  it("POST /principals takes admin and can_create_agents as JSON booleans, exactly", async () => {
    for (const admin of [true, false]) {
      for (const can of [true, false]) {
        const res = await s.api("POST", "/api/principals", {
          body: { name: uniqueName("flags"), kind: "user", admin, can_create_agents: can },
        });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ admin, can_create_agents: can });
        expect((await s.api("GET", "/api/me", { token: res.body.token })).body).toMatchObject({
          admin,
          can_create_agents: can,
        });
      }
    }
    const defaults = await s.api("POST", "/api/principals", {
      body: { name: uniqueName("flags"), kind: "user" },
    });
    expect(defaults.body).toMatchObject({ admin: false, can_create_agents: false });
    // The REST bridge would coerce with Boolean(): "false" must not mint an admin.
    const sneaky = await s.api("POST", "/api/principals", {
      body: { name: uniqueName("flags"), kind: "user", admin: "false" },
    });
    expectErrorBody(sneaky, 422, "UNPROCESSABLE_CONTENT");
    expect(sneaky.body.issues.map((i: { field: string }) => i.field)).toContain("admin");
  });

  it("GET /api/openapi.json documents every REST route of the SPEC", async () => {
    const doc = await s.api("GET", "/api/openapi.json", { token: null });
    expect(doc.status).toBe(200);
    const paths = doc.body.paths as Record<string, Record<string, unknown>>;
    const expected: Array<[string, string]> = [
      ["post", "/agents/register-build"],
      ["post", "/agents/register"],
      ["get", "/agents/{agent_id}"],
      ["get", "/agents/name/{agent_name}"],
      ["get", "/agents"],
      ["delete", "/agents/{agent_id}"],
      ["delete", "/agents/name/{agent_name}"],
      ["post", "/agents/{agent_id}/deployments"],
      ["get", "/agents/{agent_id}/deployments"],
      ["get", "/agents/{agent_id}/deployments/{deployment_id}"],
      ["post", "/agents/{agent_id}/deployments/{deployment_id}/promote"],
      ["delete", "/agents/{agent_id}/deployments/{deployment_id}"],
      ["get", "/me"],
      ["post", "/principals"],
      ["get", "/principals"],
      ["post", "/principals/{principal_id}/tokens"],
      ["delete", "/tokens/{token_id}"],
      ["get", "/agents/{agent_id}/grants"],
      ["put", "/agents/{agent_id}/grants/{principal_id}"],
      ["delete", "/agents/{agent_id}/grants/{principal_id}"],
      ["post", "/agent_api_keys"],
      ["get", "/agent_api_keys"],
      ["delete", "/agent_api_keys/{id}"],
    ];
    for (const [method, path] of expected) {
      const key = Object.keys(paths).find((p) => p === path || p === `/api${path}`);
      expect(key, path).toBeDefined();
      expect(paths[key!]![method], `${method} ${path}`).toBeDefined();
    }
  });
});
