import { describe, expect, it } from "vitest";
import { startServer } from "./process.ts";

/** The server as `pnpm start` runs it: LOG_FORMAT from the environment reaches its lines. */
describe("LOG_FORMAT, end to end", () => {
  it("pretty: readable lines on stdout, and the readiness polls that started it are not among them", async () => {
    const server = await startServer({
      name: "pretty",
      env: { AGENTEX_DATA_DIR: "memory://", LOG_LEVEL: "info", LOG_FORMAT: "pretty" },
    });
    try {
      const res = await server.api("GET", "/api/agents", { token: null });
      expect(res.status).toBe(401);
    } finally {
      await server.stop();
    }
    const lines = server.logs().split("\n").slice(1);
    const readable = /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] (INFO|WARN|ERROR): /;
    expect(
      lines.some((l) => readable.test(l) && l.includes("agent registry listening")),
      server.logs(),
    ).toBe(true);
    expect(
      lines.some((l) => readable.test(l) && l.includes('"url":"/api/agents"')),
      server.logs(),
    ).toBe(true);
    expect(
      lines.some((l) => l.includes("shutting down")),
      server.logs(),
    ).toBe(true);
    for (const line of lines) expect(line.startsWith("{"), line).toBe(false);
    expect(server.logs()).not.toContain("/healthz");
  });
});
