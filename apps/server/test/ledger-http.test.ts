import { randomUUID } from "node:crypto";
import { createClient, isAgentexError, type Promotion } from "@agentex/client";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { useServer } from "./helpers.ts";

/**
 * The ledger, rollback, CAS and idempotency keys over real HTTP: the REST
 * bridge (bodies, Idempotency-Key header) and /trpc through the typed client.
 */
describe(`ledger and idempotency over HTTP (${TEST_STORE})`, () => {
  const s = useServer();

  async function agentWithDeployments(n: number) {
    const name = `http-${randomUUID().slice(0, 8)}`;
    const agent = (await s.api("POST", "/api/agents/register-build", { body: { name, description: "" } }))
      .body;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const dep = (
        await s.api("POST", `/api/agents/${agent.id}/deployments`, { body: { docker_image: "img:test" } })
      ).body;
      await s.api("POST", "/api/agents/register", {
        body: {
          name,
          description: "",
          acp_url: `http://${name}-${i}.svc`,
          acp_type: "async",
          registration_metadata: { deployment_id: dep.id },
        },
      });
      ids.push(dep.id);
    }
    return { agent, ids };
  }

  it("REST: promote with reason, CAS 409 body, rollback, ledger pages and production at T", async () => {
    const { agent, ids } = await agentWithDeployments(2);
    const [a, b] = ids as [string, string];
    const p1 = await s.api("POST", `/api/agents/${agent.id}/deployments/${a}/promote`, {
      body: { reason: "first", expected_current_deployment_id: null },
      headers: { "x-request-id": "req-ledger-1" },
    });
    expect(p1.status).toBe(200);
    const stale = await s.api("POST", `/api/agents/${agent.id}/deployments/${b}/promote`, {
      body: { expected_current_deployment_id: null },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toEqual({
      status_code: 409,
      code: "PRODUCTION_CHANGED",
      message: expect.stringContaining("production changed"),
      current_deployment_id: a,
      request_id: expect.any(String),
    });
    // An Agentex client's promote (no body) still works.
    expect((await s.api("POST", `/api/agents/${agent.id}/deployments/${b}/promote`)).status).toBe(200);

    const list = await s.api("GET", `/api/agents/${agent.id}/promotions?limit=1`);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ kind: "promote", from_deployment_id: a, to_deployment_id: b });
    const older = await s.api(
      "GET",
      `/api/agents/${agent.id}/promotions?limit=1&cursor=${list.body.next_cursor}`,
    );
    expect(older.body.items[0]).toMatchObject({
      from_deployment_id: null,
      to_deployment_id: a,
      reason: "first",
      request_id: "req-ledger-1",
    });

    const at = await s.api(
      "GET",
      `/api/agents/${agent.id}/production?at=${encodeURIComponent(older.body.items[0].at)}`,
    );
    expect(at.body).toMatchObject({ deployment_id: a, promotion: { id: older.body.items[0].id } });

    const rb = await s.api("POST", `/api/agents/${agent.id}/rollback`, {
      body: { reason: "b regressed", expected_current_deployment_id: b },
    });
    expect(rb.status).toBe(200);
    expect(rb.body).toMatchObject({
      deployment: { id: a, is_production: true },
      promotion: { kind: "rollback", reason: "b regressed" },
    });
    const none = await s.api("POST", `/api/agents/${agent.id}/rollback`, {});
    expect(none.status).toBe(412);
    expect(none.body).toMatchObject({ status_code: 412, code: "PRECONDITION_FAILED" });

    const badAt = await s.api("GET", `/api/agents/${agent.id}/production?at=yesterday`);
    expect(badAt.status).toBe(422);
    expect(badAt.body.issues).toEqual([expect.objectContaining({ field: "at" })]);
  });

  it("REST: the Idempotency-Key header replays status and body, marks the replay, refuses another body", async () => {
    const { agent } = await agentWithDeployments(0);
    const key = `k-${randomUUID()}`;
    const first = await s.api("POST", `/api/agents/${agent.id}/deployments`, {
      body: { docker_image: "img:1" },
      headers: { "idempotency-key": key },
    });
    const again = await s.api("POST", `/api/agents/${agent.id}/deployments`, {
      body: { docker_image: "img:1" },
      headers: { "idempotency-key": key },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await s.api("GET", `/api/agents/${agent.id}/deployments`)).body).toHaveLength(1);

    const other = await s.api("POST", `/api/agents/${agent.id}/deployments`, {
      body: { docker_image: "img:2" },
      headers: { "idempotency-key": key },
    });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      issues: [{ field: "idempotency_key" }],
    });

    // A 404 the work decided is replayed too (status and body), even once the agent exists.
    const missing = randomUUID();
    const k404 = `k-${randomUUID()}`;
    const n1 = await s.api("DELETE", `/api/agents/${missing}`, { headers: { "idempotency-key": k404 } });
    const n2 = await s.api("DELETE", `/api/agents/${missing}`, { headers: { "idempotency-key": k404 } });
    expect([n1.status, n2.status]).toEqual([404, 404]);
    expect(n2.body.message).toBe(n1.body.message);
    expect(n2.headers.get("idempotent-replayed")).toBe("true");

    const bad = await s.api("POST", `/api/agents/${agent.id}/deployments`, {
      body: {},
      headers: { "idempotency-key": "has space" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.issues).toEqual([expect.objectContaining({ field: "Idempotency-Key" })]);
  });

  it("typed client: idempotency_key, AgentexError PRODUCTION_CHANGED with current_deployment_id, ledger types", async () => {
    const { agent, ids } = await agentWithDeployments(2);
    const [a, b] = ids as [string, string];
    const client = createClient({ url: s.url, token: s.adminToken });
    const first = await client.deployments.promote.mutate({
      agent_id: agent.id,
      deployment_id: a,
      idempotency_key: "tc-1",
      reason: "go",
    });
    const replay = await client.deployments.promote.mutate({
      agent_id: agent.id,
      deployment_id: a,
      idempotency_key: "tc-1",
      reason: "go",
    });
    expect(replay).toEqual(first);

    const err = await client.deployments.promote
      .mutate({ agent_id: agent.id, deployment_id: b, expected_current_deployment_id: b })
      .catch((e: unknown) => e);
    expect(isAgentexError(err)).toBe(true);
    if (!isAgentexError(err)) return;
    expect(err.status_code).toBe(409);
    expect(err.code).toBe("PRODUCTION_CHANGED");
    expect(err.current_deployment_id).toBe(a);

    const page = await client.promotions.list.query({ agent_id: agent.id });
    const rows: Promotion[] = page.items;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.actor).toMatchObject({ kind: "user", name: "admin" });

    // Same key over /trpc with the header instead of the field.
    const withHeader = createClient({
      url: s.url,
      token: s.adminToken,
      headers: { "idempotency-key": "tc-2" },
    });
    const p2 = await withHeader.deployments.promote.mutate({ agent_id: agent.id, deployment_id: b });
    const p2again = await client.deployments.promote.mutate({
      agent_id: agent.id,
      deployment_id: b,
      idempotency_key: "tc-2",
    });
    expect(p2again).toEqual(p2);
    expect((await client.promotions.list.query({ agent_id: agent.id })).items).toHaveLength(2);
  });
});
