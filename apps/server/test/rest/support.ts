/** What the REST bridge tests share: the wire shapes they check and the agents and deployments they make. */
import { expect } from "vitest";
import type { TestServer } from "../helpers.ts";

/** A reply from `TestServer.api`: a status and the parsed JSON body. */
type ApiReply = Awaited<ReturnType<TestServer["api"]>>;

export const AGENT_KEYS = [
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

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let seq = 0;
export const uniqueName = (prefix = "rest") => `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

export function expectIso(value: unknown) {
  expect(typeof value).toBe("string");
  expect(value).toMatch(ISO);
  expect(Number.isNaN(Date.parse(value as string))).toBe(false);
}

export function expectAgentShape(agent: Record<string, unknown>) {
  expect(Object.keys(agent).sort()).toEqual(AGENT_KEYS);
  expect(agent.id).toMatch(UUID);
  expectIso(agent.created_at);
  expectIso(agent.updated_at);
  if (agent.registered_at !== null) expectIso(agent.registered_at);
}

export function expectDeploymentShape(d: Record<string, unknown>) {
  expect(Object.keys(d).sort()).toEqual(DEPLOYMENT_KEYS);
  expect(d.id).toMatch(UUID);
  expect(d.agent_id).toMatch(UUID);
  expect(typeof d.is_production).toBe("boolean");
  expectIso(d.created_at);
  if (d.promoted_at !== null) expectIso(d.promoted_at);
  if (d.expires_at !== null) expectIso(d.expires_at);
}

/** A 200 whose body is a Deployment with (at least) `fields`. */
export function expectDeployment(res: Pick<ApiReply, "status" | "body">, fields: Record<string, unknown>) {
  expect(res.status).toBe(200);
  expectDeploymentShape(res.body);
  expect(res.body).toMatchObject(fields);
}

/** The SPEC error body, exactly: no stack, no tRPC envelope, nothing else. */
export function expectErrorBody(res: Pick<ApiReply, "status" | "body">, status: number, code: string) {
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

/** Agents and deployments made over REST as the admin, each checked to succeed. */
export function restFixtures(s: TestServer) {
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
    return res.body;
  }

  async function createDeployment(agentId: string, extra: Record<string, unknown> = {}) {
    const res = await s.api("POST", `/api/agents/${agentId}/deployments`, {
      body: { docker_image: "registry/img:1", ...extra },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  async function readyDeployment(
    agent: { id: string; name: string; description: string },
    url = `http://${agent.name}.svc:8000`,
  ) {
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
  return { registerBuild, createDeployment, readyDeployment };
}
