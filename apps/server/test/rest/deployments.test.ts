/** The REST bridge over real HTTP: the deployment routes, their lifecycle and the Deployment shape. */
import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { useServer } from "../helpers.ts";
import {
  expectDeployment,
  expectDeploymentShape,
  expectErrorBody,
  expectIso,
  restFixtures,
} from "./support.ts";

describe(`REST bridge over HTTP (${TEST_STORE})`, () => {
  const s = useServer();
  const { registerBuild, createDeployment, readyDeployment } = restFixtures(s);

  describe("deployments", () => {
    it("runs the whole lifecycle over REST with Deployment shapes and bare-array lists", async () => {
      const agent = await registerBuild();

      const created = await s.api("POST", `/api/agents/${agent.id}/deployments`, {
        body: {
          docker_image: "registry/img:1",
          sgp_deploy_id: "sgp-1",
          helm_release_name: "rel-1",
          registration_metadata: { a: 1 },
        },
      });
      expectDeployment(created, {
        agent_id: agent.id,
        docker_image: "registry/img:1",
        sgp_deploy_id: "sgp-1",
        helm_release_name: "rel-1",
        registration_metadata: { a: 1 },
        status: "Pending",
        acp_url: null,
        is_production: false,
        promoted_at: null,
        expires_at: null,
      });
      const dep = created.body;

      // A Pending deployment cannot be promoted: a lifecycle precondition.
      const early = await s.api("POST", `/api/agents/${agent.id}/deployments/${dep.id}/promote`);
      expectErrorBody(early, 412, "PRECONDITION_FAILED");

      // Deployment-scoped register: the deployment becomes Ready, the agent is not touched.
      const reg = await s.api("POST", "/api/agents/register", {
        body: {
          name: agent.name,
          description: agent.description,
          acp_url: "http://dep1.svc:8000",
          acp_type: "async",
          agent_id: agent.id,
          registration_metadata: { deployment_id: dep.id },
        },
      });
      expect(reg.status).toBe(200);
      expect(typeof reg.body.agent_api_key).toBe("string");
      expect(reg.body.status).toBe("BuildOnly");
      expect(reg.body.acp_url).toBeNull();

      const got = await s.api("GET", `/api/agents/${agent.id}/deployments/${dep.id}`);
      expectDeployment(got, {
        id: dep.id,
        status: "Ready",
        acp_url: "http://dep1.svc:8000",
        is_production: false,
      });

      // Promote with no body and no content-type at all (Agentex clients do this).
      const raw = await fetch(`${s.url}/api/agents/${agent.id}/deployments/${dep.id}/promote`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.adminToken}` },
      });
      expect(raw.headers.get("content-type")).toMatch(/application\/json/);
      const promoted = (await raw.json()) as Record<string, unknown>;
      expect(raw.status, JSON.stringify(promoted)).toBe(200);
      expectDeploymentShape(promoted);
      expect(promoted).toMatchObject({ id: dep.id, is_production: true });
      expectIso(promoted.promoted_at);

      const after = await s.api("GET", `/api/agents/${agent.id}`);
      expect(after.body).toMatchObject({
        status: "Ready",
        production_deployment_id: dep.id,
        acp_url: "http://dep1.svc:8000",
      });
      expectIso(after.body.registered_at);

      // Promoting the production deployment again is a no-op returning it.
      const again = await s.api("POST", `/api/agents/${agent.id}/deployments/${dep.id}/promote`, {
        body: {},
      });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(promoted);

      // The production deployment cannot be deleted.
      const delProd = await s.api("DELETE", `/api/agents/${agent.id}/deployments/${dep.id}`);
      expectErrorBody(delProd, 409, "CONFLICT");

      // A second deployment: list is a bare array, newest first.
      const dep2 = await createDeployment(agent.id, { docker_image: "registry/img:2" });
      const list = await s.api("GET", `/api/agents/${agent.id}/deployments`);
      expect(list.status).toBe(200);
      expect(Array.isArray(list.body)).toBe(true);
      for (const d of list.body) expectDeploymentShape(d);
      expect(list.body.map((d: { id: string }) => d.id)).toEqual([dep2.id, dep.id]);
      const limited = await s.api("GET", `/api/agents/${agent.id}/deployments?limit=1`);
      expect(limited.body.map((d: { id: string }) => d.id)).toEqual([dep2.id]);

      // Deleting a non-production deployment: soft, left out of the list.
      const del = await s.api("DELETE", `/api/agents/${agent.id}/deployments/${dep2.id}`);
      expect(del.status).toBe(200);
      expect(del.body).toEqual({ id: dep2.id, message: expect.stringContaining("deleted") });
      const list2 = await s.api("GET", `/api/agents/${agent.id}/deployments`);
      expect(list2.body.map((d: { id: string }) => d.id)).toEqual([dep.id]);
      const deletedDep = await s.api("POST", `/api/agents/${agent.id}/deployments/${dep2.id}/promote`);
      expect([409, 412]).toContain(deletedDep.status);
      expectErrorBody(
        deletedDep,
        deletedDep.status,
        deletedDep.status === 409 ? "CONFLICT" : "PRECONDITION_FAILED",
      );
    });

    it("promote with an empty body and content-type application/json also works", async () => {
      const agent = await registerBuild();
      const dep = await readyDeployment(agent);
      const res = await s.api("POST", `/api/agents/${agent.id}/deployments/${dep.id}/promote`, {
        body: "",
        headers: { "content-type": "application/json" },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.is_production).toBe(true);
    });

    it("a deployment of another agent is 404 under this agent, and a register naming it is 409", async () => {
      const a = await registerBuild();
      const b = await registerBuild();
      const depB = await createDeployment(b.id);
      const get = await s.api("GET", `/api/agents/${a.id}/deployments/${depB.id}`);
      expectErrorBody(get, 404, "NOT_FOUND");
      expect(get.body.message).toMatch(/not found/);
      expectErrorBody(
        await s.api("POST", `/api/agents/${a.id}/deployments/${depB.id}/promote`),
        404,
        "NOT_FOUND",
      );
      expectErrorBody(await s.api("DELETE", `/api/agents/${a.id}/deployments/${depB.id}`), 404, "NOT_FOUND");
      const reg = await s.api("POST", "/api/agents/register", {
        body: {
          name: a.name,
          description: "x",
          acp_url: "http://x.svc",
          acp_type: "async",
          agent_id: a.id,
          registration_metadata: { deployment_id: depB.id },
        },
      });
      expectErrorBody(reg, 409, "CONFLICT");
    });

    it('routes under an unknown agent are 404 with "not found"', async () => {
      const ghost = randomUUID();
      const dep = randomUUID();
      for (const [method, path] of [
        ["GET", `/api/agents/${ghost}`],
        ["DELETE", `/api/agents/${ghost}`],
        ["GET", `/api/agents/name/no-such-agent-${ghost}`],
        ["DELETE", `/api/agents/name/no-such-agent-${ghost}`],
        ["POST", `/api/agents/${ghost}/deployments`],
        ["GET", `/api/agents/${ghost}/deployments`],
        ["GET", `/api/agents/${ghost}/deployments/${dep}`],
        ["POST", `/api/agents/${ghost}/deployments/${dep}/promote`],
        ["DELETE", `/api/agents/${ghost}/deployments/${dep}`],
      ] as const) {
        const res = await s.api(method, path, method === "POST" ? { body: { docker_image: "img:1" } } : {});
        expectErrorBody(res, 404, "NOT_FOUND");
        expect(res.body.message, `${method} ${path}`).toMatch(/not found/);
      }
    });
  });
});
