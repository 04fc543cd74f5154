/**
 * The IDOR fixture: principal A owns an agent with deployments, keys and
 * grants; B may create agents and has one of its own (and so an agent key);
 * V is A's viewer. Also what a refusal must not echo, and how to ask the same
 * question about resources that do not exist.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { sql } from "kysely";
import { expect } from "vitest";
import type { TestServer } from "../helpers.ts";
import type { Attacker } from "./case.ts";

export interface IdorFixture {
  A: { id: string; token: string; tokenId: string; token2: string; token2Id: string };
  B: { id: string; token: string; agentKey: string; agentId: string };
  V: { id: string; token: string };
  agent: { id: string; name: string; description: string; acpUrl: string };
  dep: { prod: string; ready: string; pending: string };
  keys: { internal: string; internalId: string; external: string; externalId: string };
  history: { id: string };
  /** A well-formed agent key that was never issued. */
  forged: string;
}

/** An empty fixture: cases close over its objects, which createFixture fills in place. */
export function emptyFixture(): IdorFixture {
  return {
    A: { id: "", token: "", tokenId: "", token2: "", token2Id: "" },
    B: { id: "", token: "", agentKey: "", agentId: "" },
    V: { id: "", token: "" },
    agent: { id: "", name: "", description: "", acpUrl: "" },
    dep: { prod: "", ready: "", pending: "" },
    keys: { internal: "", internalId: "", external: "", externalId: "" },
    history: { id: "" },
    forged: `agx_key_${randomBytes(32).toString("base64url")}`,
  };
}

type Reply = Awaited<ReturnType<TestServer["api"]>>;

function ok(res: Reply, what: string): Reply["body"] {
  if (res.status !== 200) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Creates A's agent and everything around it, over REST, as its owners would. */
export async function createFixture(s: TestServer, fx: IdorFixture): Promise<void> {
  const { A, B, V, agent, dep, keys, history } = fx;
  const a = await s.principal({ can_create_agents: true });
  const b = await s.principal({ can_create_agents: true });
  const v = await s.principal({ can_create_agents: false });
  Object.assign(A, a);
  Object.assign(B, b);
  Object.assign(V, v);
  A.tokenId = ok(await s.api("GET", `/api/principals/${A.id}/tokens`), "tokens of A")[0].id;
  const t2 = ok(
    await s.api("POST", `/api/principals/${A.id}/tokens`, { body: { name: "second" } }),
    "second token",
  );
  A.token2 = t2.token;
  A.token2Id = t2.id;

  agent.name = `idor-a-${randomBytes(4).toString("hex")}`;
  agent.description = `private description ${randomBytes(6).toString("hex")}`;
  agent.acpUrl = `http://secret-${randomBytes(4).toString("hex")}.internal:8000`;
  const built = ok(
    await s.api("POST", "/api/agents/register-build", {
      token: A.token,
      body: { name: agent.name, description: agent.description },
    }),
    "registerBuild A",
  );
  agent.id = built.id;
  dep.prod = randomUUID();
  dep.ready = randomUUID();
  const reg = ok(
    await s.api("POST", "/api/agents/register", {
      token: A.token,
      body: {
        name: agent.name,
        description: agent.description,
        acp_url: agent.acpUrl,
        acp_type: "async",
        registration_metadata: { deployment_id: dep.prod, commit_hash: "idor-commit", branch_name: "main" },
      },
    }),
    "register A",
  );
  keys.internal = reg.agent_api_key;
  ok(
    await s.api("POST", "/api/agents/register", {
      token: A.token,
      body: {
        name: agent.name,
        description: agent.description,
        acp_url: `${agent.acpUrl}/v2`,
        acp_type: "async",
        registration_metadata: { deployment_id: dep.ready },
      },
    }),
    "register A second deployment",
  );
  ok(
    await s.api("POST", `/api/agents/${agent.id}/deployments/${dep.prod}/promote`, { token: A.token }),
    "promote",
  );
  dep.pending = ok(
    await s.api("POST", `/api/agents/${agent.id}/deployments`, {
      token: A.token,
      body: { docker_image: "img:1" },
    }),
    "deployment",
  ).id;
  const ext = ok(
    await s.api("POST", "/api/agent_api_keys", {
      token: A.token,
      body: { agent_id: agent.id, name: "ci" },
    }),
    "external key",
  );
  keys.external = ext.api_key;
  keys.externalId = ext.id;
  const listed = ok(
    await s.api("GET", `/api/agent_api_keys?agent_id=${agent.id}`, { token: A.token }),
    "list keys",
  );
  keys.internalId = listed.find((k: { api_key_type: string }) => k.api_key_type === "internal").id;
  history.id = ok(
    await s.api("GET", `/api/deployment-history?agent_id=${agent.id}`, { token: A.token }),
    "history",
  )[0].id;
  ok(
    await s.api("PUT", `/api/agents/${agent.id}/grants/${V.id}`, {
      token: A.token,
      body: { role: "viewer" },
    }),
    "grant V",
  );

  // B has an agent of its own, and so an agent key.
  const bName = `idor-b-${randomBytes(4).toString("hex")}`;
  const bReg = ok(
    await s.api("POST", "/api/agents/register", {
      token: B.token,
      body: { name: bName, description: "b", acp_url: "http://b.example:8000", acp_type: "sync" },
    }),
    "register B",
  );
  B.agentKey = bReg.agent_api_key;
  B.agentId = bReg.id;

  // The fixture itself: every credential works for its holder.
  expect((await s.api("GET", `/api/agents/${agent.id}`, { token: A.token2 })).status).toBe(200);
  expect((await s.api("GET", `/api/agents/${agent.id}`, { token: keys.internal })).status).toBe(200);
  expect((await s.api("GET", `/api/agents/${agent.id}`, { token: keys.external })).status).toBe(200);
  expect((await s.api("GET", `/api/agents/${B.agentId}`, { token: B.agentKey })).status).toBe(200);
}

const TABLES = [
  "principals",
  "api_tokens",
  "agents",
  "deployments",
  "grants",
  "agent_api_keys",
  "deployment_history",
] as const;

/** Every row of every table the procedures touch, as one comparable string. */
export async function snapshot(db: TestServer["db"]["db"]): Promise<string> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    out[table] = rows
      .map((r) =>
        JSON.stringify(r, (_k, v: unknown) =>
          isSerializedBuffer(v) ? Buffer.from(v.data).toString("hex") : v,
        ),
      )
      .sort();
  }
  return JSON.stringify(out);
}

function isSerializedBuffer(v: unknown): v is { type: "Buffer"; data: number[] } {
  return !!v && typeof v === "object" && (v as { type?: unknown }).type === "Buffer";
}

/** A's values that a refusal must never echo unless the caller sent them. */
export function secrets({ A, agent, dep, keys, history }: IdorFixture): Record<string, string> {
  return {
    "agent id": agent.id,
    "agent name": agent.name,
    description: agent.description,
    "acp url": agent.acpUrl,
    "production deployment": dep.prod,
    "ready deployment": dep.ready,
    "pending deployment": dep.pending,
    "internal key id": keys.internalId,
    "external key id": keys.externalId,
    "history record id": history.id,
    "principal A": A.id,
    "token A": A.tokenId,
    "token A2": A.token2Id,
  };
}

/** The secrets a viewer of A's agent may read. */
export const VIEWER_READABLE = [
  "agent id",
  "agent name",
  "description",
  "acp url",
  "production deployment",
  "ready deployment",
  "pending deployment",
  "history record id",
];

/** The same request about resources that do not exist: must be refused the same way (no existence oracle). */
export function ghostOf(
  fx: IdorFixture,
  input: Record<string, unknown> | undefined,
): { input: Record<string, unknown> | undefined; map: Map<string, string> } {
  const map = new Map<string, string>();
  for (const value of Object.values(secrets(fx))) {
    if (value === fx.agent.name) map.set(value, `ghost-${randomBytes(4).toString("hex")}`);
    else if (/^[0-9a-f-]{36}$/.test(value)) map.set(value, randomUUID());
  }
  if (!input) return { input, map };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[k] = typeof v === "string" && map.has(v) ? map.get(v) : v;
  return { input: out, map };
}

/** What each caller sends to authenticate. */
export function credentialOf(
  { B, V, forged }: IdorFixture,
  who: Attacker,
): { token: string | null; headers?: Record<string, string> } {
  switch (who) {
    case "B":
      return { token: B.token };
    case "B-agent-key":
      // Agentex agents send their key in this header.
      return { token: null, headers: { "x-agent-api-key": B.agentKey } };
    case "viewer":
      return { token: V.token };
    case "anonymous":
      return { token: null };
    case "forged-key":
      return { token: forged };
  }
}

/** The caller's own principal id. */
export function selfId({ B, V }: IdorFixture, who: Attacker): string {
  return who === "B" ? B.id : who === "B-agent-key" ? B.agentId : V.id;
}
