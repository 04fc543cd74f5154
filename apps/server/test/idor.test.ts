import { randomBytes, randomUUID } from "node:crypto";
import { appRouter } from "@agentex/api";
import { TEST_STORE } from "@agentex/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyDatabase, findLeaks, sha256Hex } from "./dump.ts";
import { SPEC_ROUTES } from "./spec-routes.ts";
import { useServer, type TestServer } from "./helpers.ts";

/**
 * IDOR suite over real HTTP. Principal A owns an agent with deployments, keys
 * and grants; every procedure is then tried against A's resources by callers
 * who must not touch them: B (may create agents, holds no grant), B's own
 * agent key, V (A's viewer), and callers with no or a forged credential.
 * Each try must get the refusal the contract names (404 when the caller may
 * not see the agent, 403 when it may see but not act, 409 for a held name,
 * 401 without a credential), must not leak A's fields, and must leave the
 * database exactly as it was. The table runs over the REST bridge (/api) and
 * over /trpc (GET for queries, POST for mutations).
 */

type Attacker = "B" | "B-agent-key" | "viewer" | "anonymous" | "forged-key";
const ATTACKERS: Attacker[] = ["B", "B-agent-key", "viewer", "anonymous", "forged-key"];

interface Reply {
  status: number;
  code: string | undefined;
  message: string | undefined;
  data: any;
  text: string;
}

type Expect = 401 | 403 | 404 | 409 | 412 | { status: 200; check: (data: any, who: Attacker) => void };

interface Case {
  name: string;
  proc: string;
  input: (who: Attacker) => Record<string, unknown> | undefined;
  /** Expectation for the principals with a credential; anonymous and forged always get 401. */
  B: Expect;
  key: Expect;
  viewer: Expect;
}

type Proc = {
  _def: {
    type: "query" | "mutation" | "subscription";
    meta?: { openapi?: { method: string; path: string } };
  };
};
const PROCS = (appRouter as unknown as { _def: { procedures: Record<string, Proc> } })._def.procedures;

const TABLES = [
  "principals",
  "api_tokens",
  "agents",
  "deployments",
  "grants",
  "agent_api_keys",
  "deployment_history",
] as const;

describe(`IDOR over REST and tRPC (${TEST_STORE})`, { timeout: 30_000 }, () => {
  const s = useServer();

  // Filled by beforeAll.
  const A = { id: "", token: "", tokenId: "", token2: "", token2Id: "" };
  const B = { id: "", token: "", agentKey: "", agentId: "" };
  const V = { id: "", token: "" };
  const agent = { id: "", name: "", description: "", acpUrl: "" };
  const dep = { prod: "", ready: "", pending: "" };
  const keys = { internal: "", internalId: "", external: "", externalId: "" };
  const history = { id: "" };
  const forged = `agx_key_${randomBytes(32).toString("base64url")}`;
  let baseline = "";

  async function snapshot(): Promise<string> {
    const out: Record<string, unknown[]> = {};
    for (const table of TABLES) {
      const rows = await (s.db.db as any).selectFrom(table).selectAll().execute();
      out[table] = rows
        .map((r: Record<string, unknown>) =>
          JSON.stringify(r, (_k, v) =>
            v && typeof v === "object" && v.type === "Buffer" ? Buffer.from(v.data).toString("hex") : v,
          ),
        )
        .sort();
    }
    return JSON.stringify(out);
  }

  async function ok(res: { status: number; body: any }, what: string) {
    if (res.status !== 200) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  beforeAll(async () => {
    const a = await s.principal({ can_create_agents: true });
    const b = await s.principal({ can_create_agents: true });
    const v = await s.principal({ can_create_agents: false });
    Object.assign(A, a);
    Object.assign(B, b);
    Object.assign(V, v);
    A.tokenId = (await ok(await s.api("GET", `/api/principals/${A.id}/tokens`), "tokens of A"))[0].id;
    const t2 = await ok(
      await s.api("POST", `/api/principals/${A.id}/tokens`, { body: { name: "second" } }),
      "second token",
    );
    A.token2 = t2.token;
    A.token2Id = t2.id;

    agent.name = `idor-a-${randomBytes(4).toString("hex")}`;
    agent.description = `private description ${randomBytes(6).toString("hex")}`;
    agent.acpUrl = `http://secret-${randomBytes(4).toString("hex")}.internal:8000`;
    const built = await ok(
      await s.api("POST", "/api/agents/register-build", {
        token: A.token,
        body: { name: agent.name, description: agent.description },
      }),
      "registerBuild A",
    );
    agent.id = built.id;
    dep.prod = randomUUID();
    dep.ready = randomUUID();
    const reg = await ok(
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
    await ok(
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
    await ok(
      await s.api("POST", `/api/agents/${agent.id}/deployments/${dep.prod}/promote`, { token: A.token }),
      "promote",
    );
    dep.pending = (
      await ok(
        await s.api("POST", `/api/agents/${agent.id}/deployments`, {
          token: A.token,
          body: { docker_image: "img:1" },
        }),
        "deployment",
      )
    ).id;
    const ext = await ok(
      await s.api("POST", "/api/agent_api_keys", {
        token: A.token,
        body: { agent_id: agent.id, name: "ci" },
      }),
      "external key",
    );
    keys.external = ext.api_key;
    keys.externalId = ext.id;
    const listed = await ok(
      await s.api("GET", `/api/agent_api_keys?agent_id=${agent.id}`, { token: A.token }),
      "list keys",
    );
    keys.internalId = listed.find((k: any) => k.api_key_type === "internal").id;
    history.id = (
      await ok(
        await s.api("GET", `/api/deployment-history?agent_id=${agent.id}`, { token: A.token }),
        "history",
      )
    )[0].id;
    await ok(
      await s.api("PUT", `/api/agents/${agent.id}/grants/${V.id}`, {
        token: A.token,
        body: { role: "viewer" },
      }),
      "grant V",
    );

    // B has an agent of its own, and so an agent key.
    const bName = `idor-b-${randomBytes(4).toString("hex")}`;
    const bReg = await ok(
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
    baseline = await snapshot();
  }, 60_000);

  /** A's values that a refusal must never echo unless the caller sent them. */
  const secrets = () => ({
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
  });

  /** The same request about resources that do not exist: must be refused the same way (no existence oracle). */
  function ghostOf(input: Record<string, unknown> | undefined): {
    input: Record<string, unknown> | undefined;
    map: Map<string, string>;
  } {
    const map = new Map<string, string>();
    for (const value of Object.values(secrets())) {
      if (value === agent.name) map.set(value, `ghost-${randomBytes(4).toString("hex")}`);
      else if (/^[0-9a-f-]{36}$/.test(value)) map.set(value, randomUUID());
    }
    if (!input) return { input, map };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) out[k] = typeof v === "string" && map.has(v) ? map.get(v) : v;
    return { input: out, map };
  }

  function credentialOf(who: Attacker): { token: string | null; headers?: Record<string, string> } {
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

  function selfId(who: Attacker): string {
    return who === "B" ? B.id : who === "B-agent-key" ? B.agentId : V.id;
  }

  async function viaRest(
    proc: string,
    input: Record<string, unknown> | undefined,
    who: Attacker,
  ): Promise<Reply> {
    const meta = PROCS[proc]!._def.meta!.openapi!;
    const rest: Record<string, unknown> = { ...input };
    const path = meta.path.replace(/\{(\w+)\}/g, (_m, key: string) => {
      const value = rest[key];
      delete rest[key];
      return encodeURIComponent(String(value));
    });
    let url = `/api${path}`;
    let body: unknown;
    if (meta.method === "GET" || meta.method === "DELETE") {
      const qs = new URLSearchParams(Object.entries(rest).map(([k, v]) => [k, String(v)])).toString();
      if (qs) url += `?${qs}`;
    } else {
      body = rest;
    }
    const res = await s.api(meta.method, url, {
      ...credentialOf(who),
      ...(body !== undefined ? { body } : {}),
    });
    const ok = res.status === 200;
    return {
      status: res.status,
      code: ok ? undefined : res.body?.code,
      message: ok ? undefined : res.body?.message,
      data: ok ? res.body : undefined,
      text: typeof res.body === "string" ? res.body : JSON.stringify(res.body),
    };
  }

  /** A subscription over SSE: its first event decides (an error event, or an open stream that says nothing = 200). */
  async function viaSubscription(
    proc: string,
    input: Record<string, unknown> | undefined,
    who: Attacker,
  ): Promise<Reply> {
    const abort = new AbortController();
    const cred = credentialOf(who);
    const headers: Record<string, string> = { accept: "text/event-stream", ...cred.headers };
    if (cred.token) headers.authorization = `Bearer ${cred.token}`;
    const res = await fetch(
      `${s.url}/trpc/${proc}?input=${encodeURIComponent(JSON.stringify(input ?? {}))}`,
      { headers, signal: abort.signal },
    );
    if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      const body = await res.json();
      return {
        status: res.status,
        code: body?.error?.data?.code,
        message: body?.error?.message,
        data: undefined,
        text: JSON.stringify(body),
      };
    }
    const decoder = new TextDecoder();
    let text = "";
    const reader = res.body!.getReader();
    const timer = setTimeout(() => abort.abort(), 1_500);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        const error = /event: serialized-error\ndata: (.*)\n/.exec(text);
        if (error) {
          const body = JSON.parse(error[1]!);
          return {
            status: body.data.httpStatus,
            code: body.data.code,
            message: body.message,
            data: undefined,
            text,
          };
        }
      }
    } catch {
      // aborted: the stream stayed open without an error
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    return { status: 200, code: undefined, message: undefined, data: undefined, text };
  }

  async function viaTrpc(
    proc: string,
    input: Record<string, unknown> | undefined,
    who: Attacker,
  ): Promise<Reply> {
    const type = PROCS[proc]!._def.type;
    if (type === "subscription") return viaSubscription(proc, input, who);
    const res =
      type === "query"
        ? await s.api(
            "GET",
            `/trpc/${proc}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
            credentialOf(who),
          )
        : await s.api("POST", `/trpc/${proc}`, { ...credentialOf(who), body: input ?? {} });
    return {
      status: res.status,
      code: res.body?.error?.data?.code,
      message: res.body?.error?.message,
      data: res.body?.result?.data,
      text: typeof res.body === "string" ? res.body : JSON.stringify(res.body),
    };
  }

  const readsAgent = (expected: boolean) => (data: any) => {
    const list = Array.isArray(data) ? data : data.items;
    expect(Array.isArray(list)).toBe(true);
    expect(list.some((x: any) => x.id === agent.id)).toBe(expected);
  };

  const cases: Case[] = [
    {
      name: "registerBuild of A's name",
      proc: "agents.registerBuild",
      input: () => ({ name: agent.name, description: "squatter" }),
      B: 409,
      // An agent key cannot create agents: the same 403 a free name gets (no oracle).
      key: 403,
      viewer: {
        status: 200,
        check: (d) =>
          expect(d).toMatchObject({
            id: agent.id,
            description: agent.description,
            acp_url: agent.acpUrl,
            status: "Ready",
          }),
      },
    },
    {
      name: "register (legacy) by A's name",
      proc: "agents.register",
      input: () => ({
        name: agent.name,
        description: "hijack",
        acp_url: "http://evil.example:1",
        acp_type: "async",
      }),
      B: 409,
      // Agent keys never register (issue 9): refused before any lookup.
      key: 403,
      viewer: 403,
    },
    {
      name: "register by A's agent_id",
      proc: "agents.register",
      input: () => ({
        agent_id: agent.id,
        name: `hijack-${randomBytes(3).toString("hex")}`,
        description: "x",
        acp_url: "http://evil.example:1",
        acp_type: "async",
      }),
      B: 404,
      key: 403,
      viewer: 403,
    },
    {
      name: "register of A's pending deployment",
      proc: "agents.register",
      input: () => ({
        agent_id: agent.id,
        name: agent.name,
        description: agent.description,
        acp_url: "http://evil.example:1",
        acp_type: "async",
        registration_metadata: { deployment_id: dep.pending },
      }),
      B: 404,
      key: 403,
      viewer: 403,
    },
    {
      name: "get agent",
      proc: "agents.get",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d.id).toBe(agent.id) },
    },
    {
      name: "get agent by name",
      proc: "agents.getByName",
      input: () => ({ agent_name: agent.name }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d.id).toBe(agent.id) },
    },
    {
      name: "list agents",
      proc: "agents.list",
      input: () => ({ limit: 1000 }),
      B: { status: 200, check: readsAgent(false) },
      key: { status: 200, check: (d) => expect(d.map((x: any) => x.id)).toEqual([B.agentId]) },
      viewer: { status: 200, check: readsAgent(true) },
    },
    {
      name: "list agents by cursor",
      proc: "agents.listPage",
      input: () => ({ limit: 1000 }),
      B: { status: 200, check: readsAgent(false) },
      key: { status: 200, check: (d) => expect(d.items.map((x: any) => x.id)).toEqual([B.agentId]) },
      viewer: { status: 200, check: readsAgent(true) },
    },
    {
      name: "count agents by status",
      proc: "agents.counts",
      input: () => undefined,
      // Each caller counts only what it may read: its own agent (B, B's key) or the one shared with it (viewer).
      B: { status: 200, check: (d) => expect(d.total).toBe(1) },
      key: { status: 200, check: (d) => expect(d.total).toBe(1) },
      viewer: { status: 200, check: (d) => expect(d.total).toBe(1) },
    },
    {
      name: "what the caller may do on A's agent",
      proc: "agents.permissions",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: {
        status: 200,
        check: (d) => expect(d).toMatchObject({ agent_id: agent.id, role: "viewer", actions: ["read"] }),
      },
    },
    {
      name: "delete agent",
      proc: "agents.delete",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "delete agent by name",
      proc: "agents.deleteByName",
      input: () => ({ agent_name: agent.name }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "create deployment",
      proc: "deployments.create",
      input: () => ({ agent_id: agent.id, docker_image: "evil:1" }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "list deployments",
      proc: "deployments.list",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: {
        status: 200,
        check: (d) =>
          expect(d.map((x: any) => x.id).sort()).toEqual([dep.prod, dep.ready, dep.pending].sort()),
      },
    },
    {
      name: "list deployments by cursor",
      proc: "deployments.listPage",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d.items).toHaveLength(3) },
    },
    {
      name: "get deployment",
      proc: "deployments.get",
      input: () => ({ agent_id: agent.id, deployment_id: dep.prod }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d).toMatchObject({ id: dep.prod, is_production: true }) },
    },
    {
      name: "promote deployment",
      proc: "deployments.promote",
      input: () => ({ agent_id: agent.id, deployment_id: dep.ready }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "delete deployment",
      proc: "deployments.delete",
      input: () => ({ agent_id: agent.id, deployment_id: dep.pending }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "read the promotion ledger",
      proc: "promotions.list",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: {
        status: 200,
        check: (d) => expect(d.items.map((x: any) => x.to_deployment_id)).toEqual([dep.prod]),
      },
    },
    {
      name: "production at a time",
      proc: "promotions.productionAt",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d.deployment_id).toBe(dep.prod) },
    },
    {
      name: "roll back",
      proc: "promotions.rollback",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "roll B's agent back to A's deployment",
      proc: "promotions.rollback",
      input: () => ({ agent_id: B.agentId, to_deployment_id: dep.ready }),
      B: 412,
      key: 403,
      viewer: 404,
    },
    {
      name: "watch A's events",
      proc: "events.watch",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      // The stream opens (and stays open: nothing happens to A's agent meanwhile).
      viewer: { status: 200, check: (d) => expect(d).toBeUndefined() },
    },
    // Cross-agent references: the caller's own agent (B's) with A's deployment ids.
    {
      name: "get A's deployment through B's agent",
      proc: "deployments.get",
      input: () => ({ agent_id: B.agentId, deployment_id: dep.prod }),
      B: 404,
      key: 404,
      viewer: 404,
    },
    {
      name: "roll A back through B's agent",
      proc: "deployments.rollback",
      input: () => ({ agent_id: B.agentId, deployment_id: dep.ready }),
      B: 404,
      key: 403,
      viewer: 404,
    },
    {
      name: "promote A's deployment through B's agent",
      proc: "deployments.promote",
      input: () => ({ agent_id: B.agentId, deployment_id: dep.ready }),
      B: 404,
      key: 403,
      viewer: 404,
    },
    {
      name: "delete A's deployment through B's agent",
      proc: "deployments.delete",
      input: () => ({ agent_id: B.agentId, deployment_id: dep.pending }),
      B: 404,
      key: 403,
      viewer: 404,
    },
    {
      name: "list grants",
      proc: "grants.list",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "grant self owner",
      proc: "grants.set",
      input: (who) => ({ agent_id: agent.id, principal_id: selfId(who), role: "owner" }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "demote the owner",
      proc: "grants.set",
      input: () => ({ agent_id: agent.id, principal_id: A.id, role: "viewer" }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "revoke the owner",
      proc: "grants.revoke",
      input: () => ({ agent_id: agent.id, principal_id: A.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "revoke the viewer's grant",
      proc: "grants.revoke",
      input: () => ({ agent_id: agent.id, principal_id: V.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "create key by agent_id",
      proc: "agentApiKeys.create",
      input: () => ({ agent_id: agent.id, name: "stolen" }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "create key by agent_name",
      proc: "agentApiKeys.create",
      input: () => ({ agent_name: agent.name, name: "stolen" }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "list keys",
      proc: "agentApiKeys.list",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "get key by id",
      proc: "agentApiKeys.get",
      input: () => ({ id: keys.externalId }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "get key by name",
      proc: "agentApiKeys.getByName",
      input: () => ({ name: "ci", agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "revoke key by name",
      proc: "agentApiKeys.deleteByName",
      input: () => ({ api_key_name: "ci", agent_name: agent.name }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "register a webhook trigger",
      proc: "agentApiKeys.webhookTrigger",
      input: () => ({ agent_name: agent.name, name: "evil/repo", forward_path: "hook" }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "list deployment history",
      proc: "deploymentHistory.list",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: { status: 200, check: (d) => expect(d.map((r: any) => r.id)).toEqual([history.id]) },
    },
    {
      name: "get a deployment history record",
      proc: "deploymentHistory.get",
      input: () => ({ deployment_id: history.id }),
      B: 404,
      key: 404,
      viewer: {
        status: 200,
        check: (d) => expect(d).toMatchObject({ id: history.id, commit_hash: "idor-commit" }),
      },
    },
    {
      name: "rotate A's internal key",
      proc: "agents.rotateKey",
      input: () => ({ agent_id: agent.id }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "revoke external key",
      proc: "agentApiKeys.revoke",
      input: () => ({ id: keys.externalId }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "revoke internal key",
      proc: "agentApiKeys.revoke",
      input: () => ({ id: keys.internalId }),
      B: 404,
      key: 404,
      viewer: 403,
    },
    {
      name: "me",
      proc: "me.get",
      input: () => undefined,
      B: { status: 200, check: (d) => expect(d).toMatchObject({ id: B.id, kind: "user", admin: false }) },
      key: {
        status: 200,
        check: (d) =>
          expect(d).toMatchObject({ id: B.agentId, kind: "agent", agent_id: B.agentId, admin: false }),
      },
      viewer: {
        status: 200,
        check: (d) => expect(d).toMatchObject({ id: V.id, kind: "user", admin: false }),
      },
    },
    {
      name: "create an admin principal",
      proc: "principals.create",
      input: () => ({
        name: `evil-${randomBytes(3).toString("hex")}`,
        kind: "user",
        admin: true,
        can_create_agents: true,
      }),
      B: 403,
      key: 403,
      viewer: 403,
    },
    {
      name: "list principals",
      proc: "principals.list",
      input: () => undefined,
      B: 403,
      key: 403,
      viewer: 403,
    },
    {
      name: "disable A",
      proc: "principals.disable",
      input: () => ({ principal_id: A.id }),
      B: 403,
      key: 403,
      viewer: 403,
    },
    {
      name: "enable A",
      proc: "principals.enable",
      input: () => ({ principal_id: A.id }),
      B: 403,
      key: 403,
      viewer: 403,
    },
    {
      name: "delete A",
      proc: "principals.delete",
      input: () => ({ principal_id: A.id }),
      B: 403,
      key: 403,
      viewer: 403,
    },
    {
      name: "issue a token for A",
      proc: "tokens.create",
      input: () => ({ principal_id: A.id }),
      B: 403,
      key: 403,
      viewer: 403,
    },
    {
      name: "list A's tokens",
      proc: "tokens.list",
      input: () => ({ principal_id: A.id }),
      B: 404,
      key: 404,
      viewer: 404,
    },
    {
      name: "revoke A's first token",
      proc: "tokens.revoke",
      input: () => ({ token_id: A.tokenId }),
      B: 404,
      key: 404,
      viewer: 404,
    },
    {
      name: "revoke A's second token",
      proc: "tokens.revoke",
      input: () => ({ token_id: A.token2Id }),
      B: 404,
      key: 404,
      viewer: 404,
    },
  ];

  const VIEWER_READABLE = [
    "agent id",
    "agent name",
    "description",
    "acp url",
    "production deployment",
    "ready deployment",
    "pending deployment",
    "history record id",
  ];
  const CODES: Record<number, string> = {
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
  };
  const counts: Record<string, Record<string, number>> = { rest: {}, trpc: {} };

  function expectationFor(c: Case, who: Attacker): Expect {
    if (who === "anonymous" || who === "forged-key") return 401;
    return who === "B" ? c.B : who === "B-agent-key" ? c.key : c.viewer;
  }

  it("the table covers every REST route of the SPEC and every procedure of the router", () => {
    const restRoutes = Object.values(PROCS)
      .map((p) => p._def.meta?.openapi)
      .filter((o): o is { method: string; path: string } => !!o)
      .map((o) => `${o.method} ${o.path}`);
    for (const route of SPEC_ROUTES) expect(restRoutes, `SPEC route ${route} is served`).toContain(route);
    const covered = new Set(cases.map((c) => c.proc));
    expect(
      Object.keys(PROCS).filter((p) => !covered.has(p)),
      "procedures without an IDOR case",
    ).toEqual([]);
  });

  for (const transport of ["rest", "trpc"] as const) {
    describe(transport === "rest" ? "REST bridge /api" : "tRPC /trpc", () => {
      for (const c of cases) {
        if (transport === "rest" && !PROCS[c.proc]?._def.meta?.openapi) continue;
        for (const who of ATTACKERS) {
          it(`${who}: ${c.name} (${c.proc})`, async () => {
            const send = transport === "rest" ? viaRest : viaTrpc;
            const input = c.input(who);
            const expected = expectationFor(c, who);
            const reply = await send(c.proc, input, who);
            const status = typeof expected === "number" ? expected : expected.status;
            expect(reply.status, reply.text).toBe(status);
            if (typeof expected === "number") {
              expect(reply.code, reply.text).toBe(CODES[expected]);
              if (expected === 404) expect(reply.message).toMatch(/not found/);
              // A refusal echoes at most what the caller sent (a viewer may read the agent and its deployments).
              const sent = JSON.stringify(input ?? {});
              const readable = who === "viewer" ? VIEWER_READABLE : [];
              for (const [label, value] of Object.entries(secrets())) {
                if (readable.includes(label) || sent.includes(value)) continue;
                expect(reply.text, `refusal leaks ${label}`).not.toContain(value);
              }
              if (expected === 404) {
                // Indistinguishable from asking about something that does not exist.
                const ghost = ghostOf(input);
                const other = await send(c.proc, ghost.input, who);
                expect(other.status, other.text).toBe(404);
                expect(other.code).toBe(reply.code);
                let translated = reply.message ?? "";
                for (const [real, fake] of ghost.map) translated = translated.split(real).join(fake);
                expect(other.message).toBe(translated);
              }
            } else {
              expected.check(reply.data, who);
            }
            expect(await snapshot(), "the database changed").toBe(baseline);
            counts[transport]![String(status)] = (counts[transport]![String(status)] ?? 0) + 1;
          });
        }
      }
    });
  }

  it("A's credentials still work after every attempt", async () => {
    for (const token of [A.token, A.token2, keys.internal, keys.external]) {
      expect((await s.api("GET", `/api/agents/${agent.id}`, { token })).status).toBe(200);
    }
    const grants = await s.api("GET", `/api/agents/${agent.id}/grants`, { token: A.token });
    expect(grants.body.map((g: any) => [g.principal_id, g.role]).sort()).toEqual(
      [
        [A.id, "owner"],
        [V.id, "viewer"],
      ].sort(),
    );
  });

  it("a copy of the database holds none of the credentials issued here", async () => {
    const credentials = {
      "admin token": s.adminToken,
      "A token": A.token,
      "A second token": A.token2,
      "B token": B.token,
      "V token": V.token,
      "A's internal key": keys.internal,
      "A's external key": keys.external,
      "B's internal key": B.agentKey,
    };
    const copies = await copyDatabase(s.db);
    const text = copies.map((c) => c.text).join("\n");
    // The copy really holds the credential tables: each credential's hash is there.
    for (const [label, credential] of Object.entries(credentials))
      expect(text, `hash of ${label} in the copy`).toContain(sha256Hex(credential));
    expect(findLeaks(copies, credentials)).toEqual([]);
    // Copying and scanning the embedded data directory on a shared machine: a generous limit, not a speed claim.
  }, 60_000);

  afterAll(() => {
    const total = (t: string) => Object.values(counts[t]!).reduce((a, b) => a + b, 0);
    const fmt = (t: string) =>
      Object.entries(counts[t]!)
        .sort()
        .map(([k, v]) => `${k}×${v}`)
        .join(" ");
    console.log(
      `IDOR summary (${TEST_STORE}): REST ${total("rest")} cases passed [${fmt("rest")}]; ` +
        `tRPC ${total("trpc")} cases passed [${fmt("trpc")}]; ${cases.length} request shapes × ${ATTACKERS.length} callers`,
    );
  });
});
