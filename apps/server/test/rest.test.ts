/**
 * The REST bridge over real HTTP: every route of the SPEC tables, wire shapes
 * (snake_case, ISO timestamps, bare arrays), status codes and the error body.
 */
import { randomUUID } from "node:crypto";
import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { useServer } from "./helpers.ts";

const AGENT_KEYS = [
  "acp_type",
  "acp_url",
  "agent_input_type",
  "created_at",
  "description",
  "id",
  "name",
  "production_deployment_id",
  "registered_at",
  "registration_metadata",
  "status",
  "status_reason",
  "updated_at",
].sort();

const DEPLOYMENT_KEYS = [
  "acp_url",
  "agent_id",
  "created_at",
  "docker_image",
  "expires_at",
  // Beyond Agentex: what the health checks concluded about its URL.
  "health",
  "health_reason",
  "helm_release_name",
  "id",
  "is_production",
  "promoted_at",
  "registration_metadata",
  "sgp_deploy_id",
  "status",
].sort();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let seq = 0;
const uniqueName = (prefix = "rest") => `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

function expectIso(value: unknown) {
  expect(typeof value).toBe("string");
  expect(value).toMatch(ISO);
  expect(Number.isNaN(Date.parse(value as string))).toBe(false);
}

function expectAgentShape(agent: Record<string, unknown>) {
  expect(Object.keys(agent).sort()).toEqual(AGENT_KEYS);
  expect(agent.id).toMatch(UUID);
  expectIso(agent.created_at);
  expectIso(agent.updated_at);
  if (agent.registered_at !== null) expectIso(agent.registered_at);
}

function expectDeploymentShape(d: Record<string, unknown>) {
  expect(Object.keys(d).sort()).toEqual(DEPLOYMENT_KEYS);
  expect(d.id).toMatch(UUID);
  expect(d.agent_id).toMatch(UUID);
  expect(typeof d.is_production).toBe("boolean");
  expectIso(d.created_at);
  if (d.promoted_at !== null) expectIso(d.promoted_at);
  if (d.expires_at !== null) expectIso(d.expires_at);
}

/** The SPEC error body, exactly: no stack, no tRPC envelope, nothing else. */
function expectErrorBody(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(typeof res.body).toBe("object");
  const keys = Object.keys(res.body).sort();
  expect(keys).toEqual(
    "issues" in res.body
      ? ["code", "issues", "message", "request_id", "status_code"]
      : ["code", "message", "request_id", "status_code"],
  );
  expect(res.body.status_code).toBe(status);
  expect(res.body.code).toBe(code);
  expect(typeof res.body.message).toBe("string");
  expect(res.body.message.length).toBeGreaterThan(0);
  expect(typeof res.body.request_id).toBe("string");
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(/\bat .*\(|\.ts:\d|\.js:\d|node_modules|stack/i);
  expect(text).not.toMatch(/select |insert into|update .* set|postgres|pglite|kysely/i);
}

describe(`REST bridge over HTTP (${TEST_STORE})`, () => {
  const s = useServer();

  async function registerBuild(
    name = uniqueName(),
    extra: Record<string, unknown> = {},
    token?: string | null,
  ) {
    const res = await s.api("POST", "/api/agents/register-build", {
      body: { name, description: `agent ${name}`, ...extra },
      ...(token !== undefined ? { token } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Record<string, any>;
  }

  async function createDeployment(agentId: string, extra: Record<string, unknown> = {}) {
    const res = await s.api("POST", `/api/agents/${agentId}/deployments`, {
      body: { docker_image: "registry/img:1", ...extra },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Record<string, any>;
  }

  async function readyDeployment(agent: Record<string, any>, url = `http://${agent.name}.svc:8000`) {
    const dep = await createDeployment(agent.id);
    const reg = await s.api("POST", "/api/agents/register", {
      body: {
        name: agent.name,
        description: agent.description,
        acp_url: url,
        acp_type: "async",
        agent_id: agent.id,
        registration_metadata: { deployment_id: dep.id },
      },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(200);
    return dep;
  }

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
      const ids = all.body.map((a: any) => a.id);
      for (const m of made) expect(ids).toContain(m.id);

      const byName = await s.api("GET", "/api/agents?order_by=name&order_direction=asc&limit=1000");
      expect(byName.status).toBe(200);
      const names = byName.body.map((a: any) => a.name);
      expect(names).toEqual([...names].sort());

      const desc = await s.api("GET", "/api/agents?order_by=name&order_direction=desc&limit=1000");
      expect(desc.body.map((a: any) => a.name)).toEqual([...names].reverse());

      const page1 = await s.api("GET", "/api/agents?order_by=name&order_direction=asc&limit=2&page_number=1");
      const page2 = await s.api("GET", "/api/agents?order_by=name&order_direction=asc&limit=2&page_number=2");
      expect(page1.body).toHaveLength(2);
      expect([...page1.body, ...page2.body].map((a: any) => a.name)).toEqual(
        names.slice(0, 2 + page2.body.length),
      );

      const buildOnly = await s.api("GET", "/api/agents?status=BuildOnly&limit=1000");
      expect(buildOnly.status).toBe(200);
      expect(buildOnly.body.length).toBeGreaterThanOrEqual(3);
      expect(buildOnly.body.every((a: any) => a.status === "BuildOnly")).toBe(true);
      const ready = await s.api("GET", "/api/agents?status=Ready&limit=1000");
      expect(ready.body.every((a: any) => a.status === "Ready")).toBe(true);
      expect(ready.body.map((a: any) => a.id)).not.toContain(made[0]!.id);

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
      expect(list.body.map((a: any) => a.id)).not.toContain(agent.id);
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
      expect(created.status).toBe(200);
      expectDeploymentShape(created.body);
      expect(created.body).toMatchObject({
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
      expect(got.status).toBe(200);
      expectDeploymentShape(got.body);
      expect(got.body).toMatchObject({
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
      const promoted = (await raw.json()) as any;
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
      expect(list.body.map((d: any) => d.id)).toEqual([dep2.id, dep.id]);
      const limited = await s.api("GET", `/api/agents/${agent.id}/deployments?limit=1`);
      expect(limited.body.map((d: any) => d.id)).toEqual([dep2.id]);

      // Deleting a non-production deployment: soft, left out of the list.
      const del = await s.api("DELETE", `/api/agents/${agent.id}/deployments/${dep2.id}`);
      expect(del.status).toBe(200);
      expect(del.body).toEqual({ id: dep2.id, message: expect.stringContaining("deleted") });
      const list2 = await s.api("GET", `/api/agents/${agent.id}/deployments`);
      expect(list2.body.map((d: any) => d.id)).toEqual([dep.id]);
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
        const named = res.body.issues.map((i: any) => i.field);
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
      expect(principals.body.map((p: any) => p.id)).toContain(pid);

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
      const grant = grants.body.find((g: any) => g.principal_id === pid);
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
      expect(keys.body.map((k: any) => k.id)).toContain(key.body.id);
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
    expect(sneaky.body.issues.map((i: any) => i.field)).toContain("admin");
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
