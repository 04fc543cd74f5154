import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { useServer } from "../helpers.ts";
import { ok, registeredAgent, uniqueName } from "./fixtures.ts";

/**
 * Agentex's agent API key scenarios (tests/integration/api/agent_api_keys),
 * over HTTP. Agentex answers the agent_id/agent_name rule with 400; here it is
 * a 422 naming the field, with Agentex's sentence in the message (README).
 */
describe(`Agentex parity: agent API keys (${TEST_STORE})`, () => {
  const s = useServer();
  const agent = { id: "", name: "" };
  const existing = { id: "", name: "test-api-key" };

  beforeAll(async () => {
    agent.name = uniqueName("test-agent");
    agent.id = (await registeredAgent(s, agent.name)).id;
    existing.id = (
      await ok(s, "POST", "/api/agent_api_keys", {
        body: { agent_id: agent.id, name: existing.name, api_key: "test-api-key-value" },
      })
    ).id;
  });

  const count = async (query: string) => (await ok(s, "GET", `/api/agent_api_keys?${query}`)).length;

  for (const by of ["agent_id", "agent_name"] as const) {
    it(`create by ${by}: 200, external by default, the key once; the list grows by one`, async () => {
      const query = by === "agent_id" ? `agent_id=${agent.id}` : `agent_name=${agent.name}`;
      const before = await count(query);
      const name = `by-${by}-${randomUUID().slice(0, 6)}`;
      const created = await ok(s, "POST", "/api/agent_api_keys", {
        body: { name, [by]: by === "agent_id" ? agent.id : agent.name },
      });
      expect(created).toMatchObject({ name, agent_id: agent.id, api_key_type: "external" });
      expect(created.id).toBeTruthy();
      expect(created.api_key).toMatch(/^agx_key_/);
      expect(created.created_at).toBeTruthy();
      expect(await count(query)).toBe(before + 1);
    });
  }

  it("get by id returns the key, never its secret", async () => {
    const got = await ok(s, "GET", `/api/agent_api_keys/${existing.id}`);
    expect(got).toMatchObject({
      id: existing.id,
      name: existing.name,
      agent_id: agent.id,
      api_key_type: "external",
      key_prefix: "test",
    });
    expect(JSON.stringify(got)).not.toContain("test-api-key-value");
  });

  it("create five, list them, get each by name; pages of 2 walk them all", async () => {
    const before = await count(`agent_id=${agent.id}`);
    const names = Array.from({ length: 5 }, (_, i) => `test-api-key-${i}`);
    for (const name of names)
      await ok(s, "POST", "/api/agent_api_keys", { body: { name, agent_id: agent.id } });
    const listed = await ok(s, "GET", `/api/agent_api_keys?agent_id=${agent.id}&limit=1000`);
    expect(listed).toHaveLength(before + 5);
    expect(listed.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(names));
    for (const name of names)
      expect((await s.api("GET", `/api/agent_api_keys/name/${name}?agent_id=${agent.id}`)).status).toBe(200);
    const paged: string[] = [];
    for (let page = 1; ; page++) {
      const rows = await ok(s, "GET", `/api/agent_api_keys?agent_id=${agent.id}&limit=2&page_number=${page}`);
      if (!rows.length) break;
      paged.push(...rows.map((k: { id: string }) => k.id));
    }
    expect(paged.sort()).toEqual(listed.map((k: { id: string }) => k.id).sort());
  });

  it('a duplicate name (same agent and type) is 409 "already exists"; another type may share it', async () => {
    expect(
      (await s.api("GET", `/api/agent_api_keys/name/${existing.name}?agent_id=${agent.id}`)).status,
    ).toBe(200);
    const dup = await s.api("POST", "/api/agent_api_keys", {
      body: { name: existing.name, agent_id: agent.id, api_key: "new-api-key-value" },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.message).toBe(
      `external agent API key '${existing.name}' already exists for agent ID ${agent.id}.`,
    );
    const github = await s.api("POST", "/api/agent_api_keys", {
      body: { name: existing.name, agent_id: agent.id, api_key_type: "github" },
    });
    expect(github.status).toBe(200);
    const byType = await ok(
      s,
      "GET",
      `/api/agent_api_keys/name/${existing.name}?agent_id=${agent.id}&api_key_type=github`,
    );
    expect(byType).toMatchObject({ id: github.body.id, api_key_type: "github" });
  });

  it('an unknown key is 404 "not found": by name, by id, delete by name and by id', async () => {
    const byName = await s.api(
      "GET",
      `/api/agent_api_keys/name/non-existent-api-key-name?agent_id=${agent.id}`,
    );
    expect(byName.status).toBe(404);
    expect(byName.body.message).toBe(
      `Agent api_key 'non-existent-api-key-name' not found for agent ID ${agent.id}`,
    );
    for (const [method, path] of [
      ["GET", `/api/agent_api_keys/${randomUUID()}`],
      ["DELETE", `/api/agent_api_keys/${randomUUID()}`],
      ["DELETE", `/api/agent_api_keys/name/nope?agent_name=${agent.name}`],
    ] as const) {
      const res = await s.api(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.message).toContain("not found");
    }
  });

  it("delete by name: the Agentex message, then gone", async () => {
    await ok(s, "POST", "/api/agent_api_keys", { body: { name: "to-delete-by-name", agent_id: agent.id } });
    const del = await s.api("DELETE", `/api/agent_api_keys/name/to-delete-by-name?agent_id=${agent.id}`);
    expect(del).toMatchObject({ status: 200, body: "Agent api_key 'to-delete-by-name' deleted" });
    expect(
      (await s.api("GET", `/api/agent_api_keys/name/to-delete-by-name?agent_id=${agent.id}`)).status,
    ).toBe(404);
  });

  it("delete by id: the Agentex message, then gone", async () => {
    const key = await ok(s, "POST", "/api/agent_api_keys", {
      body: { name: "to-delete-by-id", agent_name: agent.name },
    });
    const del = await s.api("DELETE", `/api/agent_api_keys/${key.id}`);
    expect(del).toMatchObject({ status: 200, body: `Agent API key with ID ${key.id} deleted` });
    expect((await s.api("GET", `/api/agent_api_keys/name/to-delete-by-id?agent_id=${agent.id}`)).status).toBe(
      404,
    );
    expect((await s.api("GET", `/api/agent_api_keys/${key.id}`)).status).toBe(404);
  });

  const RULE_CASES: Array<{
    name: string;
    method: string;
    path: () => string;
    body?: () => Record<string, unknown>;
    message: string;
  }> = [
    {
      name: "create, neither",
      method: "POST",
      path: () => "/api/agent_api_keys",
      body: () => ({ name: "x" }),
      message: "Either 'agent_id' or 'agent_name' must be provided to create an agent api_key.",
    },
    {
      name: "create, both",
      method: "POST",
      path: () => "/api/agent_api_keys",
      body: () => ({ name: "x", agent_id: agent.id, agent_name: agent.name }),
      message: "Only one of 'agent_id' or 'agent_name' should be provided to create an agent api_key.",
    },
    {
      name: "list, neither",
      method: "GET",
      path: () => "/api/agent_api_keys",
      message: "Either 'agent_id' or 'agent_name' must be provided to list agent api_keys.",
    },
    {
      name: "list, both",
      method: "GET",
      path: () => `/api/agent_api_keys?agent_id=${agent.id}&agent_name=${agent.name}`,
      message: "Only one of 'agent_id' or 'agent_name' should be provided to list agent api_keys.",
    },
    {
      name: "get by name, neither",
      method: "GET",
      path: () => "/api/agent_api_keys/name/x",
      message: "Either 'agent_id' or 'agent_name' must be provided to get an agent api_key.",
    },
    {
      name: "delete by name, both",
      method: "DELETE",
      path: () => `/api/agent_api_keys/name/x?agent_id=${agent.id}&agent_name=${agent.name}`,
      message: "Only one of 'agent_id' or 'agent_name' should be provided to delete an agent api_key.",
    },
  ];
  for (const c of RULE_CASES) {
    it(`the either-agent_id-or-agent_name rule (${c.name}): 422 with Agentex's sentence`, async () => {
      const res = await s.api(c.method, c.path(), c.body ? { body: c.body() } : {});
      expect(res.status).toBe(422);
      expect(res.body.message).toContain(c.message);
      expect(res.body.issues[0].field).toMatch(/^agent_(id|name)$/);
    });
  }

  it("a caller-supplied key is stored hashed, shown once, and must be a real secret", async () => {
    const created = await ok(s, "POST", "/api/agent_api_keys", {
      body: { name: "supplied", agent_id: agent.id, api_key: "my-own-key-value-123" },
    });
    expect(created).toMatchObject({ api_key: "my-own-key-value-123", key_prefix: "my-o" });
    const row = await s.db.db
      .selectFrom("agent_api_keys")
      .selectAll()
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(row.sealed_secret).toBeNull();
    expect(JSON.stringify({ ...row, key_hash: row.key_hash.toString("hex") })).not.toContain(
      "my-own-key-value-123",
    );
    const refused: Array<[string, string]> = [
      ["short", "at least 16"],
      ["agx_key_looks-like-ours-000", "agx_"],
      ["has white space in it!!", "whitespace"],
    ];
    for (const [api_key, why] of refused) {
      const res = await s.api("POST", "/api/agent_api_keys", {
        body: { name: `bad-${why.length}`, agent_id: agent.id, api_key },
      });
      expect(res.status, api_key).toBe(422);
      expect(res.body.issues[0]).toMatchObject({ field: "api_key" });
      expect(res.body.issues[0].message).toContain(why);
    }
  });

  it("github and slack keys: sealed, not API credentials; repository names with a slash work by name", async () => {
    const gh = await ok(s, "POST", "/api/agent_api_keys", {
      body: { name: "octo/hello-world", agent_id: agent.id, api_key_type: "github" },
    });
    expect(gh.api_key).toMatch(/^agx_whsec_/);
    const sl = await ok(s, "POST", "/api/agent_api_keys", {
      body: {
        name: "A0123SLACK",
        agent_id: agent.id,
        api_key_type: "slack",
        api_key: "slack-signing-secret-value",
      },
    });
    for (const key of [gh, sl]) {
      const row = await s.db.db
        .selectFrom("agent_api_keys")
        .selectAll()
        .where("id", "=", key.id)
        .executeTakeFirstOrThrow();
      expect(row.sealed_secret).not.toBeNull();
      expect(row.sealed_secret!.toString("latin1")).not.toContain(key.api_key);
      expect((await s.api("GET", "/api/me", { token: key.api_key })).status).toBe(401);
    }
    const byName = await ok(
      s,
      "GET",
      `/api/agent_api_keys/name/octo%2Fhello-world?agent_id=${agent.id}&api_key_type=github`,
    );
    expect(byName).toMatchObject({ id: gh.id, name: "octo/hello-world" });
    expect(
      await ok(
        s,
        "DELETE",
        `/api/agent_api_keys/name/octo%2Fhello-world?agent_name=${agent.name}&api_key_type=github`,
      ),
    ).toBe("Agent api_key 'octo/hello-world' deleted");
  });

  it("webhook-trigger registers the signing secret and returns the forward URL", async () => {
    const gh = await ok(s, "POST", "/api/agent_api_keys/webhook-trigger", {
      body: {
        agent_name: agent.name,
        name: "octo/trigger",
        forward_path: "github-pr/cfg-1",
        base_url: "https://agentex.example.com",
      },
    });
    expect(gh).toMatchObject({
      agent_name: agent.name,
      source: "github",
      name: "octo/trigger",
      webhook_path: `/api/agents/forward/name/${agent.name}/github-pr/cfg-1`,
      webhook_url: `https://agentex.example.com/api/agents/forward/name/${agent.name}/github-pr/cfg-1`,
    });
    expect(gh.secret).toMatch(/^agx_whsec_/);
    expect(await ok(s, "GET", `/api/agent_api_keys/${gh.key_id}`)).toMatchObject({
      api_key_type: "github",
      name: "octo/trigger",
    });

    const noSecret = await s.api("POST", "/api/agent_api_keys/webhook-trigger", {
      body: { agent_name: agent.name, source: "slack", name: "A0SLACK", forward_path: "slack/events" },
    });
    expect(noSecret.status).toBe(422);
    expect(noSecret.body.issues[0].field).toBe("secret");
    const slack = await ok(s, "POST", "/api/agent_api_keys/webhook-trigger", {
      body: {
        agent_name: agent.name,
        source: "slack",
        name: "A0SLACK",
        forward_path: "slack/events",
        secret: "slack-signing-secret-xyz",
      },
    });
    expect(slack).toMatchObject({ source: "slack", secret: "slack-signing-secret-xyz", webhook_url: null });
    for (const forward_path of ["../escape", "a/../b", "/abs", "https://evil.example/x", "a//b", "a%2Fb"]) {
      const res = await s.api("POST", "/api/agent_api_keys/webhook-trigger", {
        body: { agent_name: agent.name, name: "octo/x", forward_path },
      });
      expect(res.status, forward_path).toBe(422);
      expect(res.body.issues[0].field).toBe("forward_path");
    }
  });

  it("callers who may not read the agent get 404 on every key route; readers who do not own it, 403", async () => {
    const stranger = await s.principal({ can_create_agents: true });
    const viewer = await s.principal();
    await ok(s, "PUT", `/api/agents/${agent.id}/grants/${viewer.id}`, { body: { role: "viewer" } });
    const routes: Array<[string, string, Record<string, unknown>?]> = [
      ["POST", "/api/agent_api_keys", { agent_id: agent.id, name: "stolen" }],
      [
        "POST",
        "/api/agent_api_keys/webhook-trigger",
        { agent_name: agent.name, name: "o/r", forward_path: "x" },
      ],
      ["GET", `/api/agent_api_keys?agent_name=${agent.name}`],
      ["GET", `/api/agent_api_keys/name/${existing.name}?agent_id=${agent.id}`],
      ["DELETE", `/api/agent_api_keys/name/${existing.name}?agent_id=${agent.id}`],
      ["GET", `/api/agent_api_keys/${existing.id}`],
      ["DELETE", `/api/agent_api_keys/${existing.id}`],
    ];
    for (const [method, path, body] of routes) {
      const a = await s.api(method, path, { token: stranger.token, ...(body ? { body } : {}) });
      expect(a.status, `stranger ${method} ${path}`).toBe(404);
      const v = await s.api(method, path, { token: viewer.token, ...(body ? { body } : {}) });
      expect(v.status, `viewer ${method} ${path}`).toBe(403);
    }
    expect((await s.api("GET", `/api/agent_api_keys/${existing.id}`)).status).toBe(200);
  });
});
