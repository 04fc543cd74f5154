import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { useServer } from "../helpers.ts";
import { ok, uniqueName } from "./fixtures.ts";

/**
 * Agentex's agents integration scenarios (tests/integration/api/agents), over
 * HTTP against this server. Differences kept on purpose are in the README's
 * decisions: ids are UUIDs (a non-UUID id is a 422), register needs a token,
 * and validation messages are zod's ("expected string"), not pydantic's
 * ("Field required").
 */
/** The agent Agentex's integration tests register. */
const integrationAgent = (name: string) => ({
  name,
  description: "Created via integration test",
  acp_url: "http://test-acp-server:8000",
  acp_type: "agentic",
});

describe(`Agentex parity: agents (${TEST_STORE})`, () => {
  const s = useServer();
  const register = (body: Record<string, unknown>) => s.api("POST", "/api/agents/register", { body });

  it("register, then re-register by agent_id renames and updates it (same id)", async () => {
    const name = uniqueName("test-integration-agent");
    const first = await ok(s, "POST", "/api/agents/register", { body: integrationAgent(name) });
    expect(first).toMatchObject({ name, description: "Created via integration test", acp_type: "agentic" });
    const renamed = uniqueName("updated-name");
    const updated = await ok(s, "POST", "/api/agents/register", {
      body: {
        agent_id: first.id,
        name: renamed,
        description: "Updated description",
        acp_url: "http://test-new-acp-server:8000",
        acp_type: "sync",
      },
    });
    expect(updated).toMatchObject({
      id: first.id,
      name: renamed,
      description: "Updated description",
      acp_type: "sync",
    });
  });

  it("register, then get by id, by name and in the list", async () => {
    const name = uniqueName("test-integration-agent");
    const before = (await ok(s, "GET", "/api/agents?limit=1000")).length;
    const agent = await ok(s, "POST", "/api/agents/register", { body: integrationAgent(name) });
    expect(typeof agent.agent_api_key).toBe("string");
    expect(await ok(s, "GET", `/api/agents/${agent.id}`)).toMatchObject({
      id: agent.id,
      name,
      acp_url: "http://test-acp-server:8000",
    });
    expect(await ok(s, "GET", `/api/agents/name/${name}`)).toMatchObject({ id: agent.id, name });
    const after = await ok(s, "GET", "/api/agents?limit=1000");
    expect(after).toHaveLength(before + 1);
    expect(after.find((a: { name: string }) => a.name === name)).toMatchObject({
      id: agent.id,
      description: "Created via integration test",
    });
  });

  it("registration_metadata is kept and returned", async () => {
    const metadata = {
      code_url: "https://github.com/example-repo/agents/tree/main",
      agent_commit: "test-commit-hash",
    };
    const agent = await ok(s, "POST", "/api/agents/register", {
      body: {
        name: uniqueName("meta"),
        description: "x",
        acp_url: "http://test-acp-server:8000",
        acp_type: "agentic",
        registration_metadata: metadata,
      },
    });
    expect(agent.registration_metadata).toMatchObject(metadata);
    expect((await ok(s, "GET", `/api/agents/${agent.id}`)).registration_metadata).toMatchObject(metadata);
  });

  it("deployment history is recorded only once a register carries a branch and a commit", async () => {
    const name = uniqueName("test-integration-agent-deployment-history");
    const base = integrationAgent(name);
    const agent = await ok(s, "POST", "/api/agents/register", { body: base });
    const history = () => ok(s, "GET", `/api/deployment-history?agent_id=${agent.id}`);
    expect(await history()).toEqual([]);
    const steps: Array<[Record<string, unknown>, number]> = [
      [{ code_url: "https://github.com/example-repo/agents/tree/main" }, 0], // no branch
      [{ code_url: "https://github.com/example-repo/agents/tree/main", branch_name: "main" }, 0], // no commit
      [
        {
          code_url: "https://github.com/example-repo/agents/tree/main",
          branch_name: "main",
          agent_commit: "test-commit-hash",
        },
        1,
      ],
      [{ branch_name: "main", agent_commit: "test-commit-hash" }, 1], // same commit again: nothing new
    ];
    for (const [registration_metadata, count] of steps) {
      await ok(s, "POST", "/api/agents/register", { body: { ...base, registration_metadata } });
      expect(await history(), JSON.stringify(registration_metadata)).toHaveLength(count);
    }
    expect((await history())[0]).toMatchObject({
      agent_id: agent.id,
      commit_hash: "test-commit-hash",
      branch_name: "main",
      author_name: "N/A",
      author_email: "N/A",
    });
  });

  it("invalid register body: 422 in the SPEC error body, naming the missing fields", async () => {
    const res = await register({ invalid_field: "should cause validation error" });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ status_code: 422, code: "UNPROCESSABLE_CONTENT" });
    expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(
      expect.arrayContaining(["name", "acp_url", "acp_type"]),
    );
  });

  it("delete: the agent leaves list and get; deleting again (by id or name) is 404", async () => {
    const name = uniqueName("test-integration-agent-to-delete");
    const agent = await ok(s, "POST", "/api/agents/register", { body: integrationAgent(name) });
    const deleted = await ok(s, "DELETE", `/api/agents/${agent.id}`);
    expect(deleted).toEqual({ id: agent.id, message: `Agent '${agent.id}' deleted successfully` });
    expect(
      (await ok(s, "GET", "/api/agents?limit=1000")).some((a: { id: string }) => a.id === agent.id),
    ).toBe(false);
    for (const [method, path] of [
      ["GET", `/api/agents/${agent.id}`],
      ["DELETE", `/api/agents/${agent.id}`],
      ["DELETE", `/api/agents/name/${name}`],
    ] as const) {
      const res = await s.api(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.message).toContain("not found");
    }
  });

  it("list grows by one per register; limit=1 pages walk every agent", async () => {
    const before = (await ok(s, "GET", "/api/agents?limit=1000")).length;
    const prefix = uniqueName("pagination-agent");
    for (let i = 0; i < 10; i++) {
      await ok(s, "POST", "/api/agents/register", {
        body: {
          name: `${prefix}-${i}`,
          description: "For list testing",
          acp_url: "http://list-test-server:8000",
          acp_type: "sync",
        },
      });
    }
    expect(await ok(s, "GET", "/api/agents?limit=1000")).toHaveLength(before + 10);
    const seen: string[] = [];
    for (let page = 1; ; page++) {
      const rows = await ok(s, "GET", `/api/agents?limit=1&page_number=${page}`);
      if (rows.length < 1) break;
      seen.push(...rows.map((a: { id: string }) => a.id));
    }
    expect(seen).toHaveLength(before + 10);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("get by id: an unknown id is 404, a malformed one 422 (UUID ids); a known one matches register", async () => {
    expect((await s.api("GET", `/api/agents/${randomUUID()}`)).status).toBe(404);
    expect((await s.api("GET", "/api/agents/99999")).status).toBe(422);
    const name = uniqueName("get-by-id-agent");
    const agent = await ok(s, "POST", "/api/agents/register", {
      body: {
        name,
        description: "For get by ID testing",
        acp_url: "http://get-test-server:8000",
        acp_type: "agentic",
      },
    });
    expect(await ok(s, "GET", `/api/agents/${agent.id}`)).toMatchObject({
      id: agent.id,
      name,
      description: "For get by ID testing",
      acp_type: "agentic",
    });
  });

  it("register of an existing name updates that agent: same id, same agent_api_key", async () => {
    const name = uniqueName("duplicate-name-test");
    const first = await ok(s, "POST", "/api/agents/register", {
      body: { name, description: "First agent", acp_url: "http://first-server:8000", acp_type: "sync" },
    });
    const second = await ok(s, "POST", "/api/agents/register", {
      body: { name, description: "Second agent", acp_url: "http://second-server:8000", acp_type: "agentic" },
    });
    expect(second).toMatchObject({
      id: first.id,
      agent_api_key: first.agent_api_key,
      description: "Second agent",
      acp_type: "agentic",
    });
    expect(await ok(s, "GET", `/api/agents/${first.id}`)).toMatchObject({
      description: "Second agent",
      acp_type: "agentic",
    });
    const same = (await ok(s, "GET", "/api/agents?limit=1000")).filter(
      (a: { name: string }) => a.name === name,
    );
    expect(same).toHaveLength(1);
  });

  it("register without a token is 401 (Agentex registers anonymously)", async () => {
    const res = await s.api("POST", "/api/agents/register", {
      token: null,
      body: { name: uniqueName("anon"), description: "x", acp_url: "http://x:8000", acp_type: "sync" },
    });
    expect(res.status).toBe(401);
  });

  it("GET /healthcheck answers like /healthz, without a token", async () => {
    const res = await s.api("GET", "/healthcheck", { token: null });
    expect(res).toMatchObject({ status: 200, body: { status: "ok" } });
  });
});
