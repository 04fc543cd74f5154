/** The REST bridge over real HTTP: status codes and the SPEC error body, request ids, unknown routes, dot segments. */
import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { useServer } from "../helpers.ts";
import { uniqueName, expectErrorBody, restFixtures } from "./support.ts";

describe(`REST bridge over HTTP (${TEST_STORE})`, () => {
  const s = useServer();
  const { registerBuild, createDeployment } = restFixtures(s);

  describe("errors", () => {
    it("401 without a token or with a bad one, on every agent route", async () => {
      const id = randomUUID();
      for (const token of [null, "not-a-real-token", "agx_pat_deadbeef"]) {
        for (const [method, path] of [
          ["GET", "/api/agents"],
          ["POST", "/api/agents/register-build"],
          ["POST", "/api/agents/register"],
          ["GET", `/api/agents/${id}`],
          ["GET", "/api/agents/name/some-agent"],
          ["DELETE", `/api/agents/${id}`],
          ["DELETE", "/api/agents/name/some-agent"],
          ["POST", `/api/agents/${id}/deployments`],
          ["GET", `/api/agents/${id}/deployments`],
          ["GET", `/api/agents/${id}/deployments/${id}`],
          ["POST", `/api/agents/${id}/deployments/${id}/promote`],
          ["DELETE", `/api/agents/${id}/deployments/${id}`],
          ["GET", "/api/me"],
        ] as const) {
          const res = await s.api(method, path, {
            token,
            ...(method === "POST" ? { body: { name: "x", description: "y" } } : {}),
          });
          expectErrorBody(res, 401, "UNAUTHORIZED");
        }
      }
    });

    it("422 names each offending field in issues[].field with a message", async () => {
      const cases: Array<[string, string, unknown, string[]]> = [
        ["POST", "/api/agents/register-build", { name: "Bad Name!", description: "x" }, ["name"]],
        ["POST", "/api/agents/register-build", { description: "x" }, ["name"]],
        ["POST", "/api/agents/register-build", { name: "ok-name", description: 5 }, ["description"]],
        ["POST", "/api/agents/register-build", { name: "a".repeat(64), description: "x" }, ["name"]],
        [
          "POST",
          "/api/agents/register-build",
          { name: "ok-name", description: "x", agent_input_type: "xml" },
          ["agent_input_type"],
        ],
        [
          "POST",
          "/api/agents/register",
          { name: "ok-name", description: "x", acp_url: "not a url", acp_type: "weird" },
          ["acp_url", "acp_type"],
        ],
        [
          "POST",
          "/api/agents/register",
          { name: "ok-name", description: "x", acp_url: "http://x", acp_type: "sync", agent_id: "nope" },
          ["agent_id"],
        ],
        ["GET", "/api/agents?limit=0", undefined, ["limit"]],
        ["GET", "/api/agents?limit=1001", undefined, ["limit"]],
        ["GET", "/api/agents?page_number=0", undefined, ["page_number"]],
        ["GET", "/api/agents?order_by=id", undefined, ["order_by"]],
        ["GET", "/api/agents?order_direction=sideways", undefined, ["order_direction"]],
        ["GET", "/api/agents?status=Sleeping", undefined, ["status"]],
        ["GET", "/api/agents/not-a-uuid", undefined, ["agent_id"]],
        ["GET", "/api/agents/name/Not_A_Name", undefined, ["agent_name"]],
        ["GET", `/api/agents/${randomUUID()}/deployments/nope`, undefined, ["deployment_id"]],
      ];
      for (const [method, path, body, fields] of cases) {
        const res = await s.api(method, path, body === undefined ? {} : { body });
        expectErrorBody(res, 422, "UNPROCESSABLE_CONTENT");
        expect(Array.isArray(res.body.issues), `${method} ${path}`).toBe(true);
        const named = res.body.issues.map((i: { field: string }) => i.field);
        for (const field of fields) expect(named, `${method} ${path}`).toContain(field);
        for (const issue of res.body.issues) {
          expect(Object.keys(issue).sort()).toEqual(["field", "message"]);
          expect(typeof issue.message).toBe("string");
          expect(issue.message.length).toBeGreaterThan(0);
          expect(res.body.message).toContain(issue.message);
        }
      }
    });

    it("409 when registerBuild names an agent the caller cannot see, without revealing it", async () => {
      const agent = await registerBuild(uniqueName(), { registration_metadata: { secret: "hidden-value" } });
      const other = await s.principal({ can_create_agents: true });
      const res = await s.api("POST", "/api/agents/register-build", {
        token: other.token,
        body: { name: agent.name, description: "mine now?" },
      });
      expectErrorBody(res, 409, "CONFLICT");
      expect(JSON.stringify(res.body)).not.toContain(agent.id);
      expect(JSON.stringify(res.body)).not.toContain("hidden-value");
      // And the agent is invisible to them: 404, not 403.
      expectErrorBody(
        await s.api("GET", `/api/agents/${agent.id}`, { token: other.token }),
        404,
        "NOT_FOUND",
      );
    });

    it("echoes x-request-id on success and error, and the error body carries it", async () => {
      const rid = `req-${randomUUID()}`;
      const ok = await s.api("GET", "/api/agents", { headers: { "x-request-id": rid } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("x-request-id")).toBe(rid);
      const rid2 = `req-${randomUUID()}`;
      const err = await s.api("GET", `/api/agents/${randomUUID()}`, { headers: { "x-request-id": rid2 } });
      expect(err.status).toBe(404);
      expect(err.headers.get("x-request-id")).toBe(rid2);
      expect(err.body.request_id).toBe(rid2);
      const rid3 = `req-${randomUUID()}`;
      const bad = await s.api("POST", "/api/agents/register-build", {
        body: "{",
        headers: { "x-request-id": rid3 },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.request_id).toBe(rid3);
      expect(bad.headers.get("x-request-id")).toBe(rid3);
      // Without one, the server makes one up and sends it.
      const none = await s.api("GET", "/api/agents");
      expect(none.headers.get("x-request-id")).toBeTruthy();
      // A hostile request id is not echoed verbatim.
      const evil = await s.api("GET", "/api/agents", { headers: { "x-request-id": "a b<script>" } });
      expect(evil.headers.get("x-request-id")).not.toBe("a b<script>");
    });

    it("an unknown route under /api is a 404 with the SPEC body", async () => {
      const res = await s.api("GET", "/api/no/such/route");
      expectErrorBody(res, 404, "NOT_FOUND");
      expect(res.body.message).toMatch(/not found/i);
      const outside = await s.api("GET", "/nowhere");
      expect(outside.status).toBe(404);
    });
  });

  it("a path with dot segments is refused, not resolved onto another route", async () => {
    const agent = await registerBuild();
    const dep = await createDeployment(agent.id);
    // fetch would normalize the path itself; send it byte for byte.
    const { request } = await import("node:http");
    const url = new URL(s.url);
    for (const path of [
      `/api/agents/${agent.id}/deployments/%2e%2e`,
      `/api/agents/${agent.id}/deployments/..`,
      `/api/agents/${agent.id}/deployments/${dep.id}/%2E%2e`,
    ]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: "DELETE",
            path,
            headers: { authorization: `Bearer ${s.adminToken}` },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(status, path).toBe(400);
    }
    expect((await s.api("GET", `/api/agents/${agent.id}`)).status).toBe(200);
    expect((await s.api("GET", `/api/agents/${agent.id}/deployments/${dep.id}`)).body.expires_at).toBeNull();
  });
});
