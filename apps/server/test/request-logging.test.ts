import { TEST_STORE } from "@agentex/db/testing";
import { describe, expect, it } from "vitest";
import { buildServer, ConfigError, loadConfig } from "../src/index.ts";
import { SECRET, useServer } from "./helpers.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function collector() {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    stream: { write: (line: string) => void lines.push(JSON.parse(line)) },
    /** Lines written while `fn` ran (responses are logged on finish, so wait a tick). */
    async during<T>(fn: () => Promise<T>): Promise<{ result: T; lines: Array<Record<string, unknown>> }> {
      const start = lines.length;
      const result = await fn();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { result, lines: lines.slice(start) };
    },
  };
}

describe(`request id and log level (${TEST_STORE})`, () => {
  const log = collector();
  const s = useServer({ logLevel: "info", logStream: log.stream });

  /** The lines a fresh app on the shared database logs at `logLevel` while `run` uses it. */
  const logsAt = async (
    logLevel: string,
    run: (app: Awaited<ReturnType<typeof buildServer>>) => Promise<unknown>,
  ) => {
    const out = collector();
    const app = await buildServer({ database: s.db, secretKey: SECRET, logLevel, logStream: out.stream });
    try {
      await run(app);
      return [...out.lines];
    } finally {
      await app.close();
    }
  };

  it("echoes a caller-supplied x-request-id and puts it on every log line of that request (REST and tRPC)", async () => {
    for (const path of ["/api/agents", "/trpc/agents.list?input=%7B%7D", "/api/agents/does-not-exist"]) {
      const id = `trace-${Math.random().toString(36).slice(2)}`;
      const { result, lines } = await log.during(() =>
        s.api("GET", path, { headers: { "x-request-id": id } }),
      );
      expect(result.headers.get("x-request-id"), path).toBe(id);
      expect(lines.length, path).toBeGreaterThanOrEqual(2); // incoming request + request completed
      for (const line of lines) expect(line.reqId, `${path}: ${JSON.stringify(line)}`).toBe(id);
      expect(
        lines.some(
          (l) =>
            l.msg === "request completed" && (l.res as { statusCode: number }).statusCode === result.status,
        ),
      ).toBe(true);
    }
  });

  it("mints a uuid when none (or an unusable one) is sent, and error bodies carry the same id", async () => {
    for (const sent of [undefined, "has spaces in it", "x".repeat(200)]) {
      const headers: Record<string, string> = sent === undefined ? {} : { "x-request-id": sent };
      const { result, lines } = await log.during(() => s.api("GET", "/api/agents", { token: null, headers }));
      const id = result.headers.get("x-request-id");
      expect(id).toMatch(UUID);
      expect(result.status).toBe(401);
      expect(result.body.request_id).toBe(id);
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const line of lines) expect(line.reqId).toBe(id);
    }
  });

  it("request ids differ between requests", async () => {
    const a = await s.api("GET", "/healthz", { token: null });
    const b = await s.api("GET", "/healthz", { token: null });
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });

  it("honours the log level: at warn, an ordinary request writes nothing", async () => {
    const quiet = await logsAt("warn", async (app) => {
      const res = await app.inject({
        method: "GET",
        url: "/api/agents",
        headers: { authorization: `Bearer ${s.adminToken}` },
      });
      expect(res.statusCode).toBe(200);
    });
    expect(quiet).toEqual([]);
    const loud = await logsAt("debug", (app) => app.inject({ method: "GET", url: "/healthz" }));
    expect(loud.map((l) => l.msg)).toContain("request completed");
  });

  it("at info, probe and scrape routes log nothing while other requests do; at debug they log both lines", async () => {
    const quiet = ["/healthz", "/healthcheck", "/readyz", "/metrics"];
    const atInfo = await logsAt("info", async (app) => {
      for (const url of quiet) expect((await app.inject({ method: "GET", url })).statusCode, url).toBe(200);
      await app.inject({ method: "GET", url: "/api/agents" });
    });
    expect(atInfo.map((l) => [l.level, l.msg])).toEqual([
      [30, "incoming request"],
      [30, "request completed"],
    ]);
    expect((atInfo[0]?.req as { url: string }).url).toBe("/api/agents");

    const atDebug = await logsAt("debug", async (app) => {
      for (const url of quiet) await app.inject({ method: "GET", url });
    });
    const incoming = atDebug.filter((l) => l.msg === "incoming request");
    expect(incoming.map((l) => (l.req as { url: string }).url)).toEqual(quiet);
    expect(atDebug.filter((l) => l.msg === "request completed")).toHaveLength(quiet.length);
    for (const line of [...incoming, ...atDebug.filter((l) => l.msg === "request completed")])
      expect(line.level).toBe(20);
  });

  it("the pretty format writes readable lines, the json format one JSON object a line", async () => {
    const written = async (logFormat: "pretty" | "json") => {
      const chunks: string[] = [];
      const app = await buildServer({
        database: s.db,
        secretKey: SECRET,
        logLevel: "info",
        logFormat,
        logStream: { write: (chunk) => void chunks.push(chunk) },
      });
      try {
        const res = await app.inject({
          method: "GET",
          url: "/api/agents",
          headers: { "x-request-id": "fmt-1" },
        });
        expect(res.statusCode).toBe(401);
      } finally {
        await app.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      return chunks.join("").split("\n").filter(Boolean);
    };
    const isJson = (line: string) => {
      try {
        return typeof JSON.parse(line) === "object";
      } catch {
        return false;
      }
    };

    const pretty = await written("pretty");
    expect(pretty.length).toBeGreaterThanOrEqual(2);
    for (const line of pretty) expect(isJson(line), line).toBe(false);
    expect(pretty[0]).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: incoming request .*"url":"\/api\/agents"/);
    expect(pretty.some((l) => / INFO: request completed .*"reqId":"fmt-1".*"statusCode":401/.test(l))).toBe(
      true,
    );

    const json = await written("json");
    expect(json.length).toBeGreaterThanOrEqual(2);
    for (const line of json) expect(isJson(line), line).toBe(true);
    expect(json.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain("request completed");
  });

  it("LOG_LEVEL is read from the environment and validated", () => {
    expect(loadConfig({ LOG_LEVEL: "debug" }).logLevel).toBe("debug");
    expect(loadConfig({}).logLevel).toBe("info");
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(ConfigError);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
  });

  it("AGENTEX_METRICS_TOKEN is read from the environment and validated", () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ AGENTEX_METRICS_TOKEN: "scrape-token-0123456789abcdef0123456" }).metricsToken).toBe(
      "scrape-token-0123456789abcdef0123456",
    );
    expect(() => loadConfig({ AGENTEX_METRICS_TOKEN: "short" })).toThrow(/AGENTEX_METRICS_TOKEN/);
  });
});
