/**
 * Every failed call rejects with an AgentexError carrying the server's
 * error fields (status_code, code, issues, request_id) or the client's own
 * reason, and stays a TRPCClientError for code written against plain tRPC.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { TEST_STORE, useRegistry } from "@agentex/testing";
import { TRPCClientError } from "@trpc/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  AgentexError,
  createClient,
  isAgentexError,
  type AgentexErrorCode,
  type FieldIssue,
} from "../src/index.ts";

async function rejection(p: Promise<unknown>): Promise<AgentexError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AgentexError);
    expect(err).toBeInstanceOf(TRPCClientError);
    expect(isAgentexError(err)).toBe(true);
    return err as AgentexError;
  }
  throw new Error("expected the call to fail");
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const name = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

describe(`client errors (${TEST_STORE})`, () => {
  const s = useRegistry();
  const admin = () => createClient({ url: s.url, token: s.adminToken });

  it("carries the fields of a 404", async () => {
    const id = randomUUID();
    const err = await rejection(admin().agents.get.query({ agent_id: id }));
    expect(err.status_code).toBe(404);
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toMatch(/not found/);
    expect(err.message).toContain(id);
    expect(err.issues).toEqual([]);
    expect(err.path).toBe("agents.get");
    expect(err.request_id).toEqual(expect.any(String));
    expect(err.name).toBe("AgentexError");
    // Still a TRPCClientError underneath.
    expect(err.data?.httpStatus).toBe(404);
    expect(err.data?.code).toBe("NOT_FOUND");
  });

  it("uses the server's request id (the one a caller sent is echoed)", async () => {
    const requestId = `test-${randomUUID()}`;
    const client = createClient({ url: s.url, token: s.adminToken, headers: { "x-request-id": requestId } });
    const err = await rejection(client.agents.get.query({ agent_id: randomUUID() }));
    expect(err.request_id).toBe(requestId);
  });

  it("names each offending field of a 422", async () => {
    const err = await rejection(
      admin().agents.registerBuild.mutate({ name: "Not A Valid Name!", description: "x".repeat(5000) }),
    );
    expect(err.status_code).toBe(422);
    expect(err.code).toBe("UNPROCESSABLE_CONTENT");
    const fields = err.issues.map((i) => i.field);
    expect(fields).toContain("name");
    expect(fields).toContain("description");
    for (const issue of err.issues) expect(issue.message).toEqual(expect.any(String));
  });

  it("reports 401 for a bad token and 403 for a caller who may read but not act", async () => {
    const bad = createClient({ url: s.url, token: "agx_pat_not_a_real_token_000000" });
    const e401 = await rejection(bad.me.get.query());
    expect(e401).toMatchObject({ status_code: 401, code: "UNAUTHORIZED", attempts: 1 });

    const agent = await admin().agents.registerBuild.mutate({ name: name("forbid"), description: "x" });
    const viewer = await s.principal({ can_create_agents: false });
    await admin().grants.set.mutate({ agent_id: agent.id, principal_id: viewer.id, role: "viewer" });
    const asViewer = createClient({ url: s.url, token: viewer.token });
    expect((await asViewer.agents.get.query({ agent_id: agent.id })).id).toBe(agent.id);
    const e403 = await rejection(asViewer.agents.delete.mutate({ agent_id: agent.id }));
    expect(e403).toMatchObject({ status_code: 403, code: "FORBIDDEN", path: "agents.delete" });
  });

  it("reports 409 for a name held by an agent the caller cannot see", async () => {
    const taken = name("taken");
    await admin().agents.registerBuild.mutate({ name: taken, description: "x" });
    const other = await s.principal({ can_create_agents: true });
    const err = await rejection(
      createClient({ url: s.url, token: other.token }).agents.registerBuild.mutate({
        name: taken,
        description: "y",
      }),
    );
    expect(err).toMatchObject({ status_code: 409, code: "CONFLICT" });
  });

  it("reports a lifecycle precondition (promoting a Pending deployment) as 409 or 412", async () => {
    const client = admin();
    const agent = await client.agents.registerBuild.mutate({ name: name("pending"), description: "x" });
    const dep = await client.deployments.create.mutate({ agent_id: agent.id, docker_image: "img:test" });
    const err = await rejection(
      client.deployments.promote.mutate({ agent_id: agent.id, deployment_id: dep.id }),
    );
    expect([409, 412]).toContain(err.status_code);
    expect(err.code).toBe(err.status_code === 409 ? "CONFLICT" : "PRECONDITION_FAILED");
  });

  it("reports an unreachable server as NETWORK_ERROR with no status", async () => {
    const client = createClient({ url: `http://127.0.0.1:${await closedPort()}`, token: "t", retries: 0 });
    const err = await rejection(client.agents.list.query({}));
    expect(err).toMatchObject({ code: "NETWORK_ERROR", status_code: null, request_id: null, issues: [] });
    expect(err.message).toMatch(/could not reach the server/);
  });

  it("reports a batch of failures one error each", async () => {
    const client = admin();
    const [a, b] = await Promise.allSettled([
      client.agents.get.query({ agent_id: randomUUID() }),
      client.agents.list.query({ limit: 0 }),
    ]);
    expect(a.status === "rejected" && (a.reason as AgentexError).status_code).toBe(404);
    expect(b.status === "rejected" && (b.reason as AgentexError).status_code).toBe(422);
    expect(b.status === "rejected" && (b.reason as AgentexError).issues.map((i) => i.field)).toEqual([
      "limit",
    ]);
  });

  it("has typed fields", () => {
    expectTypeOf<AgentexError["status_code"]>().toEqualTypeOf<number | null>();
    expectTypeOf<AgentexError["issues"]>().toEqualTypeOf<FieldIssue[]>();
    expectTypeOf<AgentexError["request_id"]>().toEqualTypeOf<string | null>();
    expectTypeOf<AgentexError["code"]>().toEqualTypeOf<AgentexErrorCode>();
  });
});
