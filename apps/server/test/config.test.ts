import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { MAIN, REPO_ROOT } from "./process.ts";

const SECRET = "x".repeat(32);

describe("configuration", () => {
  it("has the documented defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8000,
      host: "127.0.0.1",
      databaseUrl: null,
      bootstrapToken: null,
      secretKey: null,
      logLevel: "info",
      bodyLimitBytes: 1024 * 1024,
      dbPoolMax: 10,
      dbAcquireTimeoutMs: 5000,
      statementTimeoutMs: 15000,
      shutdownTimeoutMs: 10000,
    });
    expect(c.dataDir.endsWith("/.agentex")).toBe(true);
    expect(loadConfig({ AGENTEX_DATA_DIR: "memory://" }).dataDir).toBe("memory://");
  });

  it.each([
    ["PORT", { PORT: "eighty" }],
    ["PORT", { PORT: "70000" }],
    ["PORT", { PORT: "80.5" }],
    ["DATABASE_URL", { DATABASE_URL: "not a url", AGENTEX_SECRET_KEY: SECRET }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://root@127.0.0.1/db", AGENTEX_SECRET_KEY: SECRET }],
    ["AGENTEX_SECRET_KEY", { DATABASE_URL: "postgres://127.0.0.1/test" }],
    ["AGENTEX_SECRET_KEY", { AGENTEX_SECRET_KEY: "short" }],
    ["AGENTEX_BOOTSTRAP_TOKEN", { AGENTEX_BOOTSTRAP_TOKEN: "short" }],
    ["LOG_LEVEL", { LOG_LEVEL: "chatty" }],
    ["LOG_FORMAT", { LOG_FORMAT: "xml" }],
    ["LOG_FORMAT", { LOG_FORMAT: "JSON" }],
    ["AGENTEX_BODY_LIMIT_BYTES", { AGENTEX_BODY_LIMIT_BYTES: "-1" }],
    ["AGENTEX_DB_POOL_MAX", { AGENTEX_DB_POOL_MAX: "0" }],
    ["AGENTEX_DB_ACQUIRE_TIMEOUT_MS", { AGENTEX_DB_ACQUIRE_TIMEOUT_MS: "soon" }],
    ["AGENTEX_STATEMENT_TIMEOUT_MS", { AGENTEX_STATEMENT_TIMEOUT_MS: "1e9" }],
    ["AGENTEX_SHUTDOWN_TIMEOUT_MS", { AGENTEX_SHUTDOWN_TIMEOUT_MS: "5" }],
  ])("refuses a bad %s with a message naming it", (name, env) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message.startsWith(name)).toBe(true);
  });

  it("writes pretty logs on a terminal and JSON elsewhere, unless LOG_FORMAT says which", () => {
    expect(loadConfig({}, { terminal: true }).logFormat).toBe("pretty");
    expect(loadConfig({}, { terminal: false }).logFormat).toBe("json");
    expect(loadConfig({ LOG_FORMAT: "json" }, { terminal: true }).logFormat).toBe("json");
    expect(loadConfig({ LOG_FORMAT: "pretty" }, { terminal: false }).logFormat).toBe("pretty");
  });

  it("lets `pnpm migrate` run against Postgres without the secret the server needs", () => {
    const env = { DATABASE_URL: "postgres://127.0.0.1/test" };
    expect(() => loadConfig(env)).toThrow(/^AGENTEX_SECRET_KEY/);
    expect(loadConfig(env, { migrateOnly: true }).databaseUrl).toBe(env.DATABASE_URL);
  });

  it("never echoes a secret it refuses", () => {
    expect(() => loadConfig({ AGENTEX_SECRET_KEY: "hunter2-secret" })).toThrow(ConfigError);
    try {
      loadConfig({ AGENTEX_SECRET_KEY: "hunter2-secret" });
    } catch (err) {
      expect((err as Error).message).not.toContain("hunter2");
    }
  });

  it("stops the server at start with one line naming the variable", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", MAIN], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", PORT: "eighty", AGENTEX_DATA_DIR: "memory://" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^agentex: invalid configuration: PORT must be/);
    expect(run.stdout).toBe("");
  });
});
