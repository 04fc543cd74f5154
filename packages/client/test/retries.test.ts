/**
 * Retries, backoff and timeouts of the typed client, against a real server
 * behind a small fault-injecting proxy on 127.0.0.1: the proxy answers 503,
 * drops connections or stalls for the first requests, then forwards.
 */
import { randomUUID } from "node:crypto";
import { TEST_STORE, startProxy, useRegistry, type Fault } from "@agentex/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentexError, backoffDelay, createClient } from "../src/index.ts";

const plain503: Fault = (_req, res) => {
  res.writeHead(503, { "content-type": "text/plain" }).end("upstream unavailable");
  return true;
};

/** What the server itself answers when its database is down: a tRPC error body with status 503. */
const trpc503: Fault = (req, res) => {
  const n = new URL(req.url ?? "/", "http://x").pathname.split("/").pop()!.split(",").length;
  const one = {
    error: {
      message: "the database is unavailable; retry shortly",
      code: -32603,
      data: { code: "SERVICE_UNAVAILABLE", httpStatus: 503, path: null, request_id: "proxy-503" },
      status_code: 503,
    },
  };
  res
    .writeHead(503, { "content-type": "application/json" })
    .end(JSON.stringify(Array.from({ length: n }, () => one)));
  return true;
};

const dropConnection: Fault = (req) => {
  req.socket.destroy();
  return true;
};

async function rejection(p: Promise<unknown>): Promise<AgentexError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AgentexError);
    return err as AgentexError;
  }
  throw new Error("expected the call to fail");
}

describe(`client retries and timeouts (${TEST_STORE})`, () => {
  const s = useRegistry();
  const p = startProxy(() => s.url);
  const proxy = p.proxy;
  let agentId = "";

  beforeAll(async () => {
    await p.start();
    const agent = await createClient({ url: s.url, token: s.adminToken }).agents.registerBuild.mutate({
      name: `retry-${randomUUID().slice(0, 8)}`,
      description: "retry target",
    });
    agentId = agent.id;
  });
  afterAll(() => p.stop());

  /** A client through the proxy with short backoff so the tests stay fast. */
  const client = (extra: Parameters<typeof createClient>[0] extends infer O ? Partial<O> : never = {}) =>
    createClient({
      url: proxy.url,
      token: s.adminToken,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 100,
      ...extra,
    });

  it("retries a query that got a plain 503, then returns the answer", async () => {
    proxy.reset();
    proxy.faults.push(plain503, plain503);
    const agent = await client().agents.get.query({ agent_id: agentId });
    expect(agent.id).toBe(agentId);
    expect(proxy.seen).toEqual(Array(3).fill("GET /trpc/agents.get"));
  });

  it("retries a query that got the server's own 503 error body", async () => {
    proxy.reset();
    proxy.faults.push(trpc503);
    const agents = await client().agents.list.query({ limit: 5 });
    expect(agents.map((a) => a.id)).toContain(agentId);
    expect(proxy.seen).toHaveLength(2);
  });

  it("retries a query whose connection was dropped (network error)", async () => {
    proxy.reset();
    proxy.faults.push(dropConnection, dropConnection);
    const agent = await client().agents.get.query({ agent_id: agentId });
    expect(agent.id).toBe(agentId);
    expect(proxy.seen).toHaveLength(3);
  });

  it("gives up after `retries` retries with the last error", async () => {
    proxy.reset();
    proxy.always = plain503;
    const err = await rejection(client({ retries: 2 }).agents.get.query({ agent_id: agentId }));
    expect(proxy.seen).toHaveLength(3);
    expect(err).toMatchObject({
      status_code: 503,
      code: "SERVICE_UNAVAILABLE",
      attempts: 3,
      path: "agents.get",
    });

    proxy.reset();
    proxy.always = dropConnection;
    const net = await rejection(client({ retries: 1 }).agents.get.query({ agent_id: agentId }));
    expect(proxy.seen).toHaveLength(2);
    expect(net).toMatchObject({ status_code: null, code: "NETWORK_ERROR", attempts: 2 });
  });

  it("does not retry with retries: 0", async () => {
    proxy.reset();
    proxy.always = plain503;
    const err = await rejection(client({ retries: 0 }).agents.get.query({ agent_id: agentId }));
    expect(proxy.seen).toHaveLength(1);
    expect(err.attempts).toBe(1);
  });

  it("never retries a mutation, on 503 or on a dropped connection", async () => {
    proxy.reset();
    proxy.faults.push(plain503);
    const name = `never-retried-${randomUUID().slice(0, 8)}`;
    const err = await rejection(client().agents.registerBuild.mutate({ name, description: "x" }));
    expect(err).toMatchObject({ status_code: 503, code: "SERVICE_UNAVAILABLE", attempts: 1 });
    expect(proxy.seen).toEqual(["POST /trpc/agents.registerBuild"]);

    proxy.reset();
    proxy.faults.push(dropConnection);
    const net = await rejection(client().agents.registerBuild.mutate({ name, description: "x" }));
    expect(net).toMatchObject({ code: "NETWORK_ERROR", attempts: 1 });
    expect(proxy.seen).toHaveLength(1);
    // Neither attempt reached the server, and the client did not try again on its own.
    const admin = createClient({ url: s.url, token: s.adminToken, retries: 0 });
    expect((await rejection(admin.agents.getByName.query({ agent_name: name }))).status_code).toBe(404);
  });

  it("does not retry errors that a retry cannot fix (404, 500)", async () => {
    proxy.reset();
    const err = await rejection(client().agents.get.query({ agent_id: randomUUID() }));
    expect(err).toMatchObject({ status_code: 404, code: "NOT_FOUND", attempts: 1 });
    expect(proxy.seen).toHaveLength(1);

    proxy.reset();
    proxy.faults.push((_req, res) => {
      res.writeHead(500, { "content-type": "text/html" }).end("<h1>oops</h1>");
      return true;
    });
    const e500 = await rejection(client().agents.get.query({ agent_id: agentId }));
    expect(e500).toMatchObject({ status_code: 500, code: "INTERNAL_SERVER_ERROR", attempts: 1 });
    expect(proxy.seen).toHaveLength(1);
  });

  it("waits with exponential backoff between attempts, honouring Retry-After", async () => {
    proxy.reset();
    proxy.faults.push(plain503, plain503, plain503);
    let started = Date.now();
    await client({ retryBaseDelayMs: 100, retryMaxDelayMs: 1000 }).agents.get.query({ agent_id: agentId });
    // Delays are at least half of 100, 200, 400 ms (equal jitter): >= 350 ms in all.
    expect(Date.now() - started).toBeGreaterThanOrEqual(340);

    proxy.reset();
    proxy.faults.push((_req, res) => {
      res.writeHead(503, { "retry-after": "1", "content-type": "text/plain" }).end("busy");
      return true;
    });
    started = Date.now();
    await client({ retryBaseDelayMs: 10, retryMaxDelayMs: 5000 }).agents.get.query({ agent_id: agentId });
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(proxy.seen).toHaveLength(2);
  });

  it("computes bounded, jittered delays", () => {
    const o = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, o, null, () => 0)).toBe(50);
    expect(backoffDelay(1, o, null, () => 1)).toBe(100);
    expect(backoffDelay(3, o, null, () => 0)).toBe(200);
    expect(backoffDelay(3, o, null, () => 1)).toBe(400);
    expect(backoffDelay(10, o, null, () => 1)).toBe(1000);
    expect(backoffDelay(1, o, 700, () => 0)).toBe(700);
    expect(backoffDelay(1, o, 60_000, () => 0)).toBe(1000);
  });

  it("fails a call that outlives timeoutMs with TIMEOUT, and does not retry it", async () => {
    proxy.reset();
    proxy.always = () => true; // never answers
    const started = Date.now();
    const err = await rejection(client({ timeoutMs: 300 }).agents.get.query({ agent_id: agentId }));
    const elapsed = Date.now() - started;
    expect(err).toMatchObject({ code: "TIMEOUT", status_code: null, attempts: 1 });
    expect(err.message).toContain("300 ms");
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(5_000);
    expect(proxy.seen).toHaveLength(1);
  });

  it("applies the timeout per request: a fast answer is unaffected", async () => {
    proxy.reset();
    const agent = await client({ timeoutMs: 5_000 }).agents.get.query({ agent_id: agentId });
    expect(agent.id).toBe(agentId);
  });

  it("stops at once when the caller's signal aborts, even while backing off", async () => {
    proxy.reset();
    proxy.always = plain503;
    const controller = new AbortController();
    const started = Date.now();
    const pending = client({ retries: 10, retryBaseDelayMs: 2_000, retryMaxDelayMs: 2_000 }).agents.get.query(
      { agent_id: agentId },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 200);
    const err = await rejection(pending);
    expect(err.code).toBe("ABORTED");
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(proxy.seen).toHaveLength(1);
  });
});
