/**
 * The exact bytes of the error answers, pinned: status, content type and body
 * of a representative failure of every kind, on /api and /trpc. The bodies are
 * the SPEC error body (REST) and tRPC's envelope around the same fields; a
 * change to any of them is a change of the wire format, which external
 * clients (the Agentex Python client reads `detail`/`message`) depend on.
 * Request ids are fixed per case; generated ids are replaced by placeholders.
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { bootstrapAdmin } from "@agentex/core";
import { createTestDatabase, type TestDatabase } from "@agentex/db/testing";
import type { FastifyInstance } from "fastify";
import type { KyselyPlugin } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../src/index.ts";
import { SECRET } from "./helpers.ts";

const MISSING = "00000000-0000-4000-8000-000000000000";

/** A database whose every query fails with `fault` while it is set. */
function faulty(database: TestDatabase) {
  const state: { fault: Error | null } = { fault: null };
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (state.fault) throw state.fault;
      return args.node;
    },
    transformResult: (args) => Promise.resolve(args.result),
  };
  return { database: { ...database, db: database.db.withPlugin(plugin) }, state };
}

function pgError(code: string, message: string, extra: Record<string, string> = {}) {
  return Object.assign(new Error(message), { code, ...extra });
}

/** One HTTP/1.1 exchange on a raw socket: the status line, content type and body as sent. */
function raw(
  url: string,
  text: string,
  waitMs = 5_000,
): Promise<{ status: number; type: string; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    let data = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const [head = "", ...rest] = data.split("\r\n\r\n");
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        type: /content-type: ([^\r]*)/i.exec(head)?.[1] ?? "",
        body: rest.join("\r\n\r\n"),
      });
    };
    const timer = setTimeout(done, waitMs);
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8");
    });
    socket.on("end", done);
    socket.on("close", done);
    socket.on("error", reject);
    socket.write(text);
  });
}

describe("error bodies, byte for byte", { timeout: 60_000 }, () => {
  let app: FastifyInstance;
  let db: TestDatabase;
  let url = "";
  let admin = "";
  let user = "";
  let fault: { fault: Error | null };
  const ids: Record<string, string> = {};
  const seen: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const wrapped = faulty(db);
    fault = wrapped.state;
    app = await buildServer({
      database: wrapped.database,
      secretKey: SECRET,
      logLevel: "silent",
      bodyLimitBytes: 4096,
      requestTimeoutMs: 1_000,
      headersTimeoutMs: 1_000,
      feed: { maxPerPrincipal: 1 },
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    admin = `agx_pat_test_admin_${randomBytes(12).toString("hex")}`;
    await bootstrapAdmin(db.db, admin);
    const principal = await call("POST", "/api/principals", {
      body: { name: "pinned-user", kind: "user", admin: false, can_create_agents: true },
    });
    user = (JSON.parse(principal.body) as { token: string }).token;
    const agent = await call("POST", "/api/agents/register-build", {
      body: { name: "pinned", description: "d" },
    });
    ids.agent = (JSON.parse(agent.body) as { id: string }).id;
    for (const n of [1, 2]) {
      const dep = await call("POST", `/api/agents/${ids.agent}/deployments`, {
        body: { docker_image: `img:${n}` },
      });
      ids[`dep${n}`] = (JSON.parse(dep.body) as { id: string }).id;
      await call("POST", "/api/agents/register", {
        body: {
          name: "pinned",
          description: "d",
          agent_id: ids.agent,
          acp_url: "http://agent.internal:8000",
          acp_type: "async",
          registration_metadata: { deployment_id: ids[`dep${n}`] },
        },
      });
    }
    await call("POST", `/api/agents/${ids.agent}/deployments/${ids.dep1}/promote`);
  });

  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  async function call(
    method: string,
    path: string,
    opts: {
      token?: string | null;
      as?: "user";
      body?: unknown;
      headers?: Record<string, string>;
      id?: string;
    } = {},
  ) {
    const token = opts.as === "user" ? user : opts.token === undefined ? admin : opts.token;
    const headers: Record<string, string> = { ...opts.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.id) headers["x-request-id"] = opts.id;
    if (opts.body !== undefined) headers["content-type"] ??= "application/json";
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined
        ? { body: typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body) }
        : {}),
    });
    return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
  }

  function record(name: string, res: { status: number; type: string; body: string }) {
    let body = res.body;
    for (const [key, id] of Object.entries(ids)) body = body.split(id).join(`<${key}>`);
    body = body.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>");
    body = body.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<time>");
    seen.push(`## ${name}\n${res.status} ${res.type}\n${body}\n`);
  }

  /** Each case: a name, then the request; its id is the case's name. */
  const cases: Array<[string, string, string, Parameters<typeof call>[2]?]> = [
    ["rest 404", "GET", `/api/agents/${MISSING}`],
    [
      "trpc 404",
      "GET",
      `/trpc/agents.get?input=${encodeURIComponent(JSON.stringify({ agent_id: MISSING }))}`,
    ],
    ["rest 401", "GET", "/api/agents", { token: null }],
    ["trpc 401", "GET", "/trpc/agents.list?input=%7B%7D", { token: null }],
    ["rest 422 issues", "GET", "/api/agents/not-a-uuid"],
    ["trpc 422 issues", "GET", `/trpc/agents.get?input=${encodeURIComponent('{"agent_id":"x"}')}`],
    ["rest 422 body not object", "POST", "/api/agents/register-build", { body: "[1]" }],
    ["rest 422 proto key", "POST", "/api/agents/register-build", { body: '{"__proto__":{"a":1}}' }],
    ["trpc 422 proto key", "POST", "/trpc/agents.registerBuild", { body: '{"__proto__":{"a":1}}' }],
    ["rest bad json", "POST", "/api/agents/register-build", { body: "{bad" }],
    ["trpc bad json", "POST", "/trpc/agents.registerBuild", { body: "{bad" }],
    [
      "rest 415 guard",
      "POST",
      "/api/agents/register-build",
      { body: "x", headers: { "content-type": "text/plain" } },
    ],
    [
      "trpc 415 guard",
      "POST",
      "/trpc/agents.registerBuild",
      { body: "x", headers: { "content-type": "text/plain" } },
    ],
    ["rest 415 bridge", "POST", "/api/agents/register-build", { headers: { "content-type": "text/plain" } }],
    [
      "rest 413",
      "POST",
      "/api/agents/register-build",
      { body: { name: "big", description: "x".repeat(8000) } },
    ],
    [
      "trpc 413",
      "POST",
      "/trpc/agents.registerBuild",
      { body: { name: "big", description: "x".repeat(8000) } },
    ],
    ["rest unknown route", "GET", "/api/no/such/route?x=1"],
    ["trpc unknown procedure", "GET", "/trpc/no.such"],
    ["trpc wrong method", "GET", "/trpc/agents.registerBuild"],
    ["rest bad percent", "GET", "/api/agents/%ZZ"],
    ["docs asset 404", "GET", "/docs/assets/nope.js"],
    ["events 401", "GET", "/api/events", { token: null }],
    ["events 422", "GET", "/api/events?last_event_id=abc"],
    ["forward bad path", "GET", "/api/agents/forward/name/pinned/a%5Cb", { token: null }],
    ["forward unknown agent", "GET", "/api/agents/forward/name/nobody/x", { token: null }],
    ["console 404", "GET", "/console/nope.js"],
    ["rest 403", "POST", "/api/principals", { as: "user", body: { name: "x", kind: "user" } }],
    ["rest 409 principal name", "POST", "/api/principals", { body: { name: "pinned-user", kind: "user" } }],
    [
      "trpc batch",
      "GET",
      `/trpc/agents.get,agents.list?batch=1&input=${encodeURIComponent('{"0":{"agent_id":"x"},"1":{}}')}`,
    ],
  ];

  it("answers each failure as it always has", async () => {
    for (const [name, method, path, opts] of cases)
      record(name, await call(method, path, { ...opts, id: name.replace(/ /g, "-") }));

    // Needs the agent and its deployments.
    record(
      "trpc 403",
      await call("POST", "/trpc/principals.create", {
        token: user,
        id: "trpc-403",
        body: { name: "x", kind: "user" },
      }),
    );
    record(
      "trpc 409 principal name",
      await call("POST", "/trpc/principals.create", {
        id: "trpc-409",
        body: { name: "pinned-user", kind: "user" },
      }),
    );
    for (const [n, transport, path] of [
      [1, "rest", "/api/agents/register-build"],
      [2, "trpc", "/trpc/agents.registerBuild"],
    ] as const) {
      const key = { "idempotency-key": `pinned-key-${n}` };
      await call("POST", path, { headers: key, body: { name: `idem-${n}`, description: "d" } });
      record(
        `${transport} 422 IDEMPOTENCY_KEY_REUSED`,
        await call("POST", path, {
          id: `${transport}-idem`,
          headers: key,
          body: { name: `idem-${n}`, description: "e" },
        }),
      );
    }
    const dots = await raw(
      url,
      `GET /api/agents/../agents HTTP/1.1\r\nHost: x\r\nx-request-id: dots\r\n\r\n`,
      3_000,
    );
    record("rest dot segment", dots);
    const stale = { expected_current_deployment_id: ids.dep2 };
    record(
      "rest 409 PRODUCTION_CHANGED",
      await call("POST", `/api/agents/${ids.agent}/deployments/${ids.dep2}/promote`, {
        id: "rest-pc",
        body: stale,
      }),
    );
    record(
      "trpc 409 PRODUCTION_CHANGED",
      await call("POST", "/trpc/deployments.promote", {
        id: "trpc-pc",
        body: { agent_id: ids.agent, deployment_id: ids.dep2, ...stale },
      }),
    );

    // 429: one stream per principal here; the second is refused.
    const first = new AbortController();
    const open = await fetch(`${url}/api/events`, {
      headers: { authorization: `Bearer ${user}` },
      signal: first.signal,
    });
    expect(open.status).toBe(200);
    record("events 429", await call("GET", "/api/events", { token: user, id: "events-429" }));
    first.abort();

    // 408: a body that stops arriving.
    const host = new URL(url).host;
    const stalled = await raw(
      url,
      `POST /api/agents/register-build HTTP/1.1\r\nHost: ${host}\r\nx-request-id: r408\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`,
    );
    record("rest 408", {
      ...stalled,
      body: stalled.body.replace(/"request_id":"[^"]*"/, '"request_id":"<random>"'),
    });

    // The database failing: warm the auth cache first, so the failure hits the procedure.
    for (const [name, err] of [
      ["503 connection", pgError("08006", "connection failure")],
      ["503 statement timeout", pgError("57014", "canceling statement due to statement timeout")],
      ["409 unique name", pgError("23505", "duplicate key", { constraint: "agents_live_name_uq" })],
      ["409 unique other", pgError("23505", "duplicate key", { constraint: "other_uq" })],
      ["422 data exception", pgError("22P02", "invalid input syntax")],
      ["500 bug", new Error("a bug")],
    ] as const) {
      expect((await call("GET", "/api/agents")).status).toBe(200);
      fault.fault = err;
      try {
        const id = name.replace(/ /g, "-");
        record(`rest ${name}`, await call("GET", "/api/agents", { id: `rest-${id}` }));
        record(`trpc ${name}`, await call("GET", "/trpc/agents.list?input=%7B%7D", { id: `trpc-${id}` }));
      } finally {
        fault.fault = null;
      }
    }

    await expect(seen.join("\n")).toMatchFileSnapshot("./__snapshots__/error-bodies.txt");
  });
});
