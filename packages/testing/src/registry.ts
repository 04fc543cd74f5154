/**
 * The registry as its clients meet it: the compiled server (the entry point
 * `pnpm start` runs, built first when stale) as a child process on a free
 * loopback port, over a store of its own — an in-memory embedded one, or,
 * when DATABASE_URL is set, a scratch Postgres database it migrates itself —
 * with an admin bootstrap token. Tests reach it over HTTP only.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TEST_STORE, scratchDatabase } from "@agentex/db/testing";
import { afterAll, beforeAll } from "vitest";
import { registryClient, type RegistryClient } from "./http.ts";
import { freePort, serverEnv } from "./loopback.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "apps/server/dist/main.js");
const run = promisify(execFile);

export interface Registry extends RegistryClient {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** The bootstrap admin's bearer token. */
  adminToken: string;
  /** The server's last lines of output, for failure messages. */
  logs(): string;
}

export interface RegistryProcess extends Registry {
  /** SIGTERM, the exit awaited (SIGKILL after 20 s), then the scratch database dropped. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test run that dies half way must not leave servers behind.
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** The store's part of the server's environment, and how to dispose of it. */
async function freshStore(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (TEST_STORE === "embedded") return { env: { AGENTEX_DATA_DIR: "memory://" }, drop: async () => {} };
  const scratch = await scratchDatabase(process.env.DATABASE_URL!);
  return {
    env: { DATABASE_URL: scratch.url, AGENTEX_SECRET_KEY: randomBytes(32).toString("hex") },
    drop: () => scratch.drop(),
  };
}

/** GET /healthz until it answers 200; the bootstrap token is in place before the server listens. */
async function waitReady(url: string, exited: () => boolean, logs: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited()) throw new Error(`the registry exited before it was ready\n${logs()}`);
    if (Date.now() > deadline) throw new Error(`the registry was not ready within 60 s\n${logs()}`);
    const status = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a registry of its own; `env` adds to (or overrides) the server's environment. */
export async function startRegistry(opts: { env?: Record<string, string> } = {}): Promise<RegistryProcess> {
  await run(process.execPath, [join(ROOT, "scripts/ensure-built.mjs")], {
    cwd: ROOT,
    timeout: 900_000,
    maxBuffer: 64 * 2 ** 20,
  });
  const store = await freshStore();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const adminToken = `agx_pat_test_admin_${randomBytes(12).toString("hex")}`;
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: serverEnv(port, {
      LOG_LEVEL: "warn",
      AGENTEX_BOOTSTRAP_TOKEN: adminToken,
      // Tests register made-up URLs: nothing probes them.
      AGENTEX_HEALTH_CHECKS: "off",
      ...store.env,
      ...opts.env,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line) lines.push(line.slice(0, 600));
      if (lines.length > 200) lines.shift();
    }
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      gone = true;
      running.delete(child);
      resolve();
    }),
  );
  const logs = () => `--- registry (pid ${child.pid}, ${TEST_STORE}) ---\n${lines.join("\n")}`;
  const stop = async () => {
    if (!gone) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    }
    await store.drop();
  };
  try {
    await waitReady(url, () => gone, logs);
  } catch (err) {
    child.kill("SIGKILL");
    await stop();
    throw err;
  }

  const { api, principal } = registryClient(() => ({ url, adminToken }));
  return { url, adminToken, api, principal, logs, stop };
}

/**
 * A registry of its own for one test file: started before its tests (a stale
 * build is rebuilt first, hence the long timeout), stopped after them. The
 * fields are filled in once it is up.
 */
export function useRegistry(opts: { env?: Record<string, string> } = {}): Registry {
  const state = {} as Registry;
  let started: RegistryProcess | undefined;
  beforeAll(async () => {
    started = await startRegistry(opts);
    Object.assign(state, started);
  }, 900_000);
  afterAll(() => started?.stop(), 60_000);
  return state;
}
