import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@agentex/client";
import { TEST_STORE } from "@agentex/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { openStore } from "../src/store.ts";
import { useServer, type Json } from "./helpers.ts";

interface RawResponse {
  status: number;
  text: string;
  body: Json;
  /** ms from sending the request until the server answered (or closed). */
  ms: number;
}

/** Writes `head` (and optionally `body`) on a fresh socket; resolves with what the server answered. */
function raw(url: string, head: string, opts: { body?: string; waitMs?: number } = {}): Promise<RawResponse> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(Number(port), "127.0.0.1");
    let data = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const text = data.split("\r\n\r\n").slice(1).join("\r\n\r\n");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON
      }
      resolve({ status, text, body, ms: Date.now() - started });
    };
    const timer = setTimeout(done, opts.waitMs ?? 5_000);
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8");
      // A complete response with a Content-Length is enough.
      const len = /content-length: (\d+)/i.exec(data)?.[1];
      const sep = data.indexOf("\r\n\r\n");
      if (len && sep >= 0 && Buffer.byteLength(data.slice(sep + 4)) >= Number(len)) done();
    });
    socket.on("end", done);
    socket.on("close", done);
    socket.on("error", (err) =>
      (err as NodeJS.ErrnoException).code === "ECONNRESET" ? done() : reject(err),
    );
    socket.write(head + (opts.body ?? ""));
  });
}

function expectSpecBody(res: RawResponse, status: number) {
  expect(res.status, res.text).toBe(status);
  expect(res.body).toMatchObject({
    status_code: status,
    code: expect.any(String),
    message: expect.any(String),
    request_id: expect.any(String),
  });
}

describe(`security review over HTTP (${TEST_STORE})`, { timeout: 60_000 }, () => {
  const s = useServer({
    bodyLimitBytes: 64 * 1024,
    requestTimeoutMs: 1_000,
    headersTimeoutMs: 1_000,
    maxConnections: 40,
  });

  async function agent() {
    const name = `sec-${randomBytes(4).toString("hex")}`;
    const res = await s.api("POST", "/api/agents/register-build", { body: { name, description: "x" } });
    expect(res.status).toBe(200);
    return res.body as { id: string; name: string };
  }

  describe("2. request-target normalisation", () => {
    it("refuses every form of dot segment, fragment, backslash, parameter and absolute-form before routing", async () => {
      const a = await agent();
      const host = new URL(s.url).host;
      const auth = `Authorization: Bearer ${s.adminToken}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
      const targets = [
        `/api/agents/${a.id}/deployments/..#`,
        `/api/agents/${a.id}/deployments/..#frag`,
        `/api/agents/${a.id}/deployments/%2e%2e`,
        `/api/agents/${a.id}/deployments/.%2E`,
        `/api/agents/${a.id}/deployments/%2e%2e%2f`,
        `/api/agents/${a.id}/deployments\\..`,
        `/api/agents/${a.id}/deployments/..;x=1`,
        `/api/agents/${a.id}/deployments/%2e%2e%3bx`,
        `http://${host}/api/agents/${a.id}/deployments/..`,
        `http://${host}/api/agents/${a.id}`,
        `HTTP://${host}/trpc/agents.delete`,
        `//${host}/api/agents/${a.id}`,
      ];
      for (const target of targets) {
        const res = await raw(s.url, `DELETE ${target} HTTP/1.1\r\n${auth}`);
        expect(res.status, target).toBe(400);
        expectSpecBody(res, 400);
      }
      expect((await s.api("GET", `/api/agents/${a.id}`)).status).toBe(200);
      // Query strings may carry any of these characters.
      expect((await s.api("GET", `/api/agents?limit=1&order_by=name&x=..%2F..;#`)).status).toBe(200);
    });
  });

  describe("4. tRPC batches are bounded", () => {
    it("a batch over the cap is refused with 400 before any procedure runs; the client splits its batches", async () => {
      const input = (n: number) =>
        encodeURIComponent(
          JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { limit: 1000 }]))),
        );
      const ok = await s.api(
        "GET",
        `/trpc/${Array(10).fill("agents.list").join(",")}?batch=1&input=${input(10)}`,
      );
      expect(ok.status).toBe(200);
      const big = await s.api(
        "GET",
        `/trpc/${Array(11).fill("agents.list").join(",")}?batch=1&input=${input(11)}`,
      );
      expect(big.status).toBe(400);
      expect(big.body.error).toMatchObject({ code: -32600, data: { httpStatus: 400 } });
      expect(big.body.error.message).toMatch(/batch/i);
      const client = createClient({ url: s.url, token: s.adminToken });
      const many = await Promise.all(Array.from({ length: 35 }, () => client.me.get.query()));
      expect(many).toHaveLength(35);
    });
  });

  describe("5. content types and body limits", () => {
    it("refuses a content type the API does not use with 415, before reading the body, on both transports", async () => {
      const host = new URL(s.url).host;
      for (const [path, type] of [
        ["/trpc/agents.registerBuild", "multipart/form-data; boundary=x"],
        ["/trpc/agents.registerBuild", "text/plain"],
        ["/trpc/agents.registerBuild", "application/octet-stream"],
        ["/api/agents/register-build", "multipart/form-data; boundary=x"],
        ["/api/agents/register-build", "application/x-www-form-urlencoded"],
        ["/api/agents/register-build", "text/plain"],
      ] as const) {
        // 300 MiB announced, nothing sent: the answer must not wait for the body.
        const head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${s.adminToken}\r\nContent-Type: ${type}\r\nContent-Length: ${300 * 1024 * 1024}\r\n\r\n`;
        const res = await raw(s.url, head, { waitMs: 3_000 });
        expect(res.status, `${path} ${type}`).toBe(415);
        expectSpecBody(res, 415);
      }
    });

    it("applies the body limit to chunked bodies on /trpc and /api", async () => {
      const host = new URL(s.url).host;
      const chunk = `{"name":"big","description":"${"x".repeat(100 * 1024)}"}`;
      for (const path of ["/trpc/agents.registerBuild", "/api/agents/register-build"]) {
        const head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${s.adminToken}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
        const body = `${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
        const res = await raw(s.url, head, { body });
        expect(res.status, path).toBe(413);
      }
    });
  });

  describe("8. timeouts and the connection cap", () => {
    it("answers 408 with the SPEC body to a stalled body", async () => {
      const host = new URL(s.url).host;
      const head = `POST /api/agents/register-build HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${s.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
      const res = await raw(s.url, head, { body: '{"name":', waitMs: 8_000 });
      expectSpecBody(res, 408);
      expect(res.ms).toBeLessThan(4_000);
    });

    it("closes a connection whose headers never complete", async () => {
      const res = await raw(s.url, `GET /healthz HTTP/1.1\r\nHost: x\r\n`, { waitMs: 8_000 });
      expect(res.status).toBe(408);
      expect(res.ms).toBeLessThan(4_000);
    });

    // A server of its own with a longer headers timeout: on a loaded machine, opening 40 connections
    // can take longer than the 1 s above, and the first would be cut before the cap is reached.
    describe("the connection cap", () => {
      const capped = useServer({ requestTimeoutMs: 4_000, headersTimeoutMs: 4_000, maxConnections: 40 });
      it("caps connections, and stalled ones are cut so /healthz answers again", async () => {
        const { port } = new URL(capped.url);
        const stalled = await Promise.all(
          Array.from(
            { length: 40 },
            () =>
              new Promise<ReturnType<typeof connect>>((resolve) => {
                const sock = connect(Number(port), "127.0.0.1", () => {
                  sock.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
                  resolve(sock);
                });
                sock.on("error", () => {});
              }),
          ),
        );
        await new Promise((r) => setTimeout(r, 100));
        const refused = await raw(
          capped.url,
          "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          { waitMs: 500 },
        );
        expect(refused.status).toBe(0); // dropped at the cap
        await new Promise((r) => setTimeout(r, 5_500)); // past the headers timeout and its check interval
        const healthy = await raw(
          capped.url,
          "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        expect(healthy.status).toBe(200);
        for (const sock of stalled) sock.destroy();
      });
    });

    it("reads the limits from the environment and refuses bad values, naming the variable", () => {
      const c = loadConfig({
        AGENTEX_REQUEST_TIMEOUT_MS: "5000",
        AGENTEX_HEADERS_TIMEOUT_MS: "2000",
        AGENTEX_KEEP_ALIVE_TIMEOUT_MS: "3000",
        AGENTEX_MAX_CONNECTIONS: "50",
        AGENTEX_TRPC_MAX_BATCH: "5",
      });
      expect(c).toMatchObject({
        requestTimeoutMs: 5000,
        headersTimeoutMs: 2000,
        keepAliveTimeoutMs: 3000,
        maxConnections: 50,
        trpcMaxBatch: 5,
      });
      const d = loadConfig({});
      expect(d).toMatchObject({
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        keepAliveTimeoutMs: 5_000,
        maxConnections: 1024,
        trpcMaxBatch: 10,
      });
      for (const name of [
        "AGENTEX_REQUEST_TIMEOUT_MS",
        "AGENTEX_HEADERS_TIMEOUT_MS",
        "AGENTEX_KEEP_ALIVE_TIMEOUT_MS",
        "AGENTEX_MAX_CONNECTIONS",
        "AGENTEX_TRPC_MAX_BATCH",
      ]) {
        expect(() => loadConfig({ [name]: "0" }), name).toThrow(new RegExp(name));
      }
      expect(() =>
        loadConfig({ AGENTEX_REQUEST_TIMEOUT_MS: "1000", AGENTEX_HEADERS_TIMEOUT_MS: "2000" }),
      ).toThrow(/AGENTEX_HEADERS_TIMEOUT_MS/);
    });
  });

  describe("11. __proto__ keys on both transports", () => {
    it("are a 422 naming the field over REST and tRPC alike; constructor is stored as data on both", async () => {
      const name = () => `proto-${randomBytes(4).toString("hex")}`;
      const bad = (n: string) =>
        `{"name":"${n}","description":"x","registration_metadata":{"a":{"__proto__":{"admin":true}}}}`;
      const rest = await s.api("POST", "/api/agents/register-build", { body: bad(name()) });
      expect(rest.status).toBe(422);
      expect(rest.body).toMatchObject({ status_code: 422, code: "UNPROCESSABLE_CONTENT" });
      expect(rest.body.issues).toEqual([
        expect.objectContaining({ field: "registration_metadata.a.__proto__" }),
      ]);
      const trpc = await s.api("POST", "/trpc/agents.registerBuild", { body: bad(name()) });
      expect(trpc.status).toBe(422);
      expect(trpc.body.error.data.issues).toEqual([
        expect.objectContaining({ field: "registration_metadata.a.__proto__" }),
      ]);
      const topRest = await s.api("POST", "/api/agents/register-build", {
        body: `{"__proto__":{"x":1},"name":"${name()}","description":"x"}`,
      });
      expect(topRest.status).toBe(422);
      expect(topRest.body.issues).toEqual([expect.objectContaining({ field: "__proto__" })]);
      const topTrpc = await s.api("POST", "/trpc/agents.registerBuild", {
        body: `{"__proto__":{"x":1},"name":"${name()}","description":"x"}`,
      });
      expect(topTrpc.status).toBe(422);
      expect(topTrpc.body.error.data.issues).toEqual([expect.objectContaining({ field: "__proto__" })]);

      const ctor = (n: string) =>
        `{"name":"${n}","description":"x","registration_metadata":{"constructor":{"prototype":{"a":1}}}}`;
      const r1 = await s.api("POST", "/api/agents/register-build", { body: ctor(name()) });
      const r2 = await s.api("POST", "/trpc/agents.registerBuild", { body: ctor(name()) });
      expect(r1.status).toBe(200);
      expect(r2.status).toBe(200);
      expect(r1.body.registration_metadata).toEqual({ constructor: { prototype: { a: 1 } } });
      expect(r2.body.result.data.registration_metadata).toEqual({ constructor: { prototype: { a: 1 } } });
    });
  });
});

describe("6. operator-supplied tokens need real entropy", () => {
  it("AGENTEX_BOOTSTRAP_TOKEN and AGENTEX_METRICS_TOKEN need at least 32 characters", () => {
    for (const name of ["AGENTEX_BOOTSTRAP_TOKEN", "AGENTEX_METRICS_TOKEN"]) {
      expect(() => loadConfig({ [name]: "a".repeat(31) }), name).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: "a".repeat(31) })).toThrow(new RegExp(`${name}.*32`));
      expect(() => loadConfig({ [name]: "a".repeat(32) })).not.toThrow();
    }
  });
});

describe("7. embedded data directory permissions", { timeout: 120_000 }, () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "agentex-perm-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function modes(dir: string): Array<[string, number]> {
    const out: Array<[string, number]> = [[dir, statSync(dir).mode & 0o777]];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) out.push(...modes(p));
      else out.push([p, statSync(p).mode & 0o777]);
    }
    return out;
  }

  it("creates the directory 0700 and its files 0600, and refuses to start on a directory others can read, naming AGENTEX_DATA_DIR", async () => {
    const dir = join(root, "store");
    const store = await openStore(loadConfig({ AGENTEX_DATA_DIR: dir }));
    try {
      await store.database.db
        .selectFrom("principals")
        .select("id")
        .execute()
        .catch(() => []);
      const all = modes(dir);
      expect(all.length).toBeGreaterThan(10);
      for (const [path, mode] of all) expect(mode & 0o077, `${path} is ${mode.toString(8)}`).toBe(0);
    } finally {
      await store.database.close();
    }
    chmodSync(dir, 0o755);
    await expect(openStore(loadConfig({ AGENTEX_DATA_DIR: dir }))).rejects.toThrow(
      /AGENTEX_DATA_DIR.*0755.*chmod 700/,
    );
  });
});
