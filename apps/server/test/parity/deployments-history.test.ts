import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { useServer } from "../helpers.ts";
import { ok, registeredAgent, registeredDeployment, uniqueName } from "./fixtures.ts";

/**
 * Agentex's deployments and deployment-history scenarios over HTTP: the
 * Deployment shape a strict client validates (docker_image a string), paging
 * and ordering of the list, and the /deployment-history resource recorded
 * from register's build metadata.
 */
describe(`Agentex parity: deployments and deployment history (${TEST_STORE})`, () => {
  const s = useServer();
  const agent = { id: "", name: "" };
  const build = {
    author_name: "Test Author",
    author_email: "test@example.com",
    branch_name: "test-branch",
    build_timestamp: "2025-10-01T12:00:00.000Z",
  };

  beforeAll(async () => {
    agent.name = uniqueName("test-agent");
    agent.id = (await registeredAgent(s, agent.name)).id;
  });

  it("POST /agents/{id}/deployments requires docker_image (422 naming it) and creates a Pending deployment", async () => {
    const missing = await s.api("POST", `/api/agents/${agent.id}/deployments`, { body: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.issues.map((i: { field: string }) => i.field)).toContain("docker_image");
    const empty = await s.api("POST", `/api/agents/${agent.id}/deployments`, { body: { docker_image: "" } });
    expect(empty.status).toBe(422);
    const dep = await ok(s, "POST", `/api/agents/${agent.id}/deployments`, {
      body: {
        docker_image: "registry.example/agent:1",
        registration_metadata: { commit_hash: "abc" },
        sgp_deploy_id: "sgp-1",
        helm_release_name: "rel-1",
      },
    });
    expect(dep).toMatchObject({
      agent_id: agent.id,
      docker_image: "registry.example/agent:1",
      status: "Pending",
      is_production: false,
      sgp_deploy_id: "sgp-1",
    });
  });

  it('a deployment created by a deployment-scoped register has docker_image "unknown", in get and list', async () => {
    const id = await registeredDeployment(s, agent.name, "http://pod-1:8000");
    const got = await ok(s, "GET", `/api/agents/${agent.id}/deployments/${id}`);
    expect(got).toMatchObject({ id, docker_image: "unknown", status: "Ready", acp_url: "http://pod-1:8000" });
    const listed = await ok(s, "GET", `/api/agents/${agent.id}/deployments`);
    for (const d of listed) expect(typeof d.docker_image).toBe("string");
    expect(listed.find((d: { id: string }) => d.id === id).docker_image).toBe("unknown");
  });

  it("the list: newest first, limit/page_number pages without overlap, order_by and order_direction", async () => {
    const name = uniqueName("paged");
    const a = (await registeredAgent(s, name)).id;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push(
        (await ok(s, "POST", `/api/agents/${a}/deployments`, { body: { docker_image: `img:${i}` } })).id,
      );
    const all = await ok(s, "GET", `/api/agents/${a}/deployments`);
    expect(all.map((d: { id: string }) => d.id)).toEqual([...ids].reverse());
    const pages: string[] = [];
    for (let page = 1; page <= 4; page++)
      pages.push(
        ...(await ok(s, "GET", `/api/agents/${a}/deployments?limit=2&page_number=${page}`)).map(
          (d: { id: string }) => d.id,
        ),
      );
    expect(pages).toEqual([...ids].reverse());
    const asc = await ok(
      s,
      "GET",
      `/api/agents/${a}/deployments?order_by=created_at&order_direction=asc&limit=3`,
    );
    expect(asc.map((d: { id: string }) => d.id)).toEqual(ids.slice(0, 3));
    const bad = await s.api("GET", `/api/agents/${a}/deployments?order_by=docker_image`);
    expect(bad.status).toBe(422);
    expect(bad.body.issues[0].field).toBe("order_by");
  });

  it("rollback promotes an earlier deployment back to production", async () => {
    const name = uniqueName("rollback");
    const a = (await registeredAgent(s, name)).id;
    const v1 = await registeredDeployment(s, name, "http://v1:8000");
    const v2 = await registeredDeployment(s, name, "http://v2:8000");
    await ok(s, "POST", `/api/agents/${a}/deployments/${v1}/promote`);
    await ok(s, "POST", `/api/agents/${a}/deployments/${v2}/promote`);
    const back = await ok(s, "POST", `/api/agents/${a}/deployments/${v1}/rollback`);
    expect(back).toMatchObject({ id: v1, is_production: true });
    expect(await ok(s, "GET", `/api/agents/${a}`)).toMatchObject({
      production_deployment_id: v1,
      acp_url: "http://v1:8000",
    });
    expect((await ok(s, "GET", `/api/agents/${a}/deployments/${v2}`)).is_production).toBe(false);
  });

  it("the default page is 50, as in Agentex", async () => {
    const name = uniqueName("fifty");
    const a = (await registeredAgent(s, name)).id;
    const rows = Array.from({ length: 55 }, (_, i) => ({ agent_id: a, docker_image: `img:${i}` }));
    await s.db.db.insertInto("deployments").values(rows).execute();
    expect(await ok(s, "GET", `/api/agents/${a}/deployments`)).toHaveLength(50);
    expect(await ok(s, "GET", `/api/agents/${a}/deployments?page_number=2`)).toHaveLength(5);
  });

  it("a register with build metadata records history: get by id, list by agent id or name, filter by commit", async () => {
    const depId = await registeredDeployment(s, agent.name, "http://pod-2:8000", {
      ...build,
      commit_hash: "test-commit-hash-123",
    });
    const listed = await ok(s, "GET", `/api/deployment-history?agent_id=${agent.id}`);
    expect(listed).toHaveLength(1);
    const record = listed[0];
    expect(record).toMatchObject({
      agent_id: agent.id,
      deployment_id: depId,
      author_name: "Test Author",
      author_email: "test@example.com",
      branch_name: "test-branch",
      build_timestamp: "2025-10-01T12:00:00.000Z",
      commit_hash: "test-commit-hash-123",
    });
    expect(Date.parse(record.deployment_timestamp)).toBeGreaterThan(Date.parse(record.build_timestamp));
    expect(await ok(s, "GET", `/api/deployment-history/${record.id}`)).toEqual(record);
    expect(await ok(s, "GET", `/api/deployment-history?agent_name=${agent.name}`)).toEqual([record]);

    // Many pods of the same rollout: one record. A new commit: a second one, newest first.
    await registeredDeployment(s, agent.name, "http://pod-3:8000", {
      ...build,
      commit_hash: "test-commit-hash-123",
    });
    await registeredDeployment(s, agent.name, "http://pod-4:8000", {
      ...build,
      agent_commit: "second-commit",
    });
    const both = await ok(s, "GET", `/api/deployment-history?agent_id=${agent.id}`);
    expect(both.map((r: { commit_hash: string }) => r.commit_hash)).toEqual([
      "second-commit",
      "test-commit-hash-123",
    ]);
    expect(
      await ok(s, "GET", `/api/deployment-history?agent_id=${agent.id}&commit_hash=second-commit`),
    ).toHaveLength(1);
    expect(
      await ok(s, "GET", `/api/deployment-history?agent_id=${agent.id}&order_direction=asc&limit=1`),
    ).toEqual([record]);
    expect(await ok(s, "GET", `/api/deployment-history?agent_id=${agent.id}&limit=1&page_number=2`)).toEqual([
      record,
    ]);
  });

  it('an unknown record is 404 "Deployment not found"; a malformed id 422 (UUID ids)', async () => {
    const res = await s.api("GET", `/api/deployment-history/${randomUUID()}`);
    expect(res.status).toBe(404);
    expect(res.body.message).toContain("Deployment not found");
    expect((await s.api("GET", "/api/deployment-history/non-existent-id")).status).toBe(422);
  });

  it("the list's agent rule: neither or both is 422 with Agentex's sentence; an unknown agent 404", async () => {
    const neither = await s.api("GET", "/api/deployment-history");
    expect(neither.status).toBe(422);
    expect(neither.body.message).toContain(
      "Either 'agent_id' or 'agent_name' must be provided to list deployment history.",
    );
    const both = await s.api("GET", `/api/deployment-history?agent_id=${agent.id}&agent_name=${agent.name}`);
    expect(both.status).toBe(422);
    expect(both.body.message).toContain(
      "Only one of 'agent_id' or 'agent_name' should be provided to list deployment history.",
    );
    const unknown = await s.api("GET", "/api/deployment-history?agent_name=non-existent-agent");
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain("not found");
  });

  it("readable by whoever can read the agent; 404 for anyone else; gone with the agent", async () => {
    const name = uniqueName("private-history");
    const owner = await s.principal({ can_create_agents: true });
    const stranger = await s.principal();
    const viewer = await s.principal();
    const a = await ok(s, "POST", "/api/agents/register", {
      token: owner.token,
      body: {
        name,
        description: "x",
        acp_url: "http://p:8000",
        acp_type: "sync",
        registration_metadata: { ...build, commit_hash: "c1" },
      },
    });
    await ok(s, "PUT", `/api/agents/${a.id}/grants/${viewer.id}`, {
      token: owner.token,
      body: { role: "viewer" },
    });
    const [record] = await ok(s, "GET", `/api/deployment-history?agent_id=${a.id}`, { token: owner.token });
    expect(await ok(s, "GET", `/api/deployment-history/${record.id}`, { token: viewer.token })).toEqual(
      record,
    );
    expect(await ok(s, "GET", `/api/deployment-history?agent_name=${name}`, { token: viewer.token })).toEqual(
      [record],
    );
    const hidden = await s.api("GET", `/api/deployment-history/${record.id}`, { token: stranger.token });
    const ghost = await s.api("GET", `/api/deployment-history/${randomUUID()}`, { token: stranger.token });
    expect(hidden.status).toBe(404);
    expect(hidden.body.message.replace(record.id, "X")).toBe(
      ghost.body.message.replace(/'[0-9a-f-]{36}'/, "'X'"),
    );
    expect(
      (await s.api("GET", `/api/deployment-history?agent_id=${a.id}`, { token: stranger.token })).status,
    ).toBe(404);
    await ok(s, "DELETE", `/api/agents/${a.id}`, { token: owner.token });
    expect((await s.api("GET", `/api/deployment-history/${record.id}`, { token: owner.token })).status).toBe(
      404,
    );
  });
});
