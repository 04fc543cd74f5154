/**
 * Test helpers that run the real server as a child process (the same entry
 * point `pnpm start` runs), and a private PostgreSQL the fault tests may stop
 * and start without disturbing the machine's shared one. Loopback only.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DB } from "@agentex/db";
import { rawPostgres, scratchDatabase as scratchDatabaseOn } from "@agentex/db/testing";
import type { Json } from "./helpers.ts";
import { freePort, serverEnv } from "@agentex/testing";
import type { Kysely } from "kysely";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const MAIN = join(REPO_ROOT, "apps/server/src/main.ts");

export const ADMIN_TOKEN = `agx_pat_faults_admin_${randomBytes(12).toString("hex")}`;
export const SECRET_KEY = "faults-test-secret-key-shared-by-all-replicas";

export interface ApiResult {
  status: number;
  body: Json;
  /** Milliseconds from send to the full response. */
  ms: number;
}

/**
 * One JSON request. Never hangs: gives up after `timeoutMs` and reports
 * status -1 (aborted) or 0 (the connection was refused or reset).
 */
export async function request(
  url: string,
  method: string,
  path: string,
  opts: {
    token?: string | null;
    body?: unknown;
    timeoutMs?: number;
    /** Extra request headers (an `Idempotency-Key`). */
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResult> {
  const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
  const headers: Record<string, string> = { ...opts.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const started = performance.now();
  try {
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body, ms: performance.now() - started };
  } catch (err) {
    const name = (err as Error).name;
    const status = name === "TimeoutError" || name === "AbortError" ? -1 : 0;
    return { status, body: String((err as Error).cause ?? err), ms: performance.now() - started };
  }
}

export interface ServerProcess {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines of stdout and stderr, for failure messages. */
  logs(): string;
  api(method: string, path: string, opts?: Parameters<typeof request>[3]): Promise<ApiResult>;
  /** SIGTERM and wait for the exit (bounded). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();
// A test that failed half way must not leave servers behind.
process.on("exit", () => {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/**
 * Starts `apps/server/src/main.ts` under tsx with `env` on a free loopback
 * port and waits until it answers /healthz (or fails with its logs).
 */
export async function startServer(opts: {
  name: string;
  env: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: REPO_ROOT,
    env: serverEnv(port, {
      LOG_LEVEL: "warn",
      AGENTEX_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
      // Tests register made-up URLs: nothing probes them unless a test turns the checks on.
      AGENTEX_HEALTH_CHECKS: "off",
      ...opts.env,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line) continue;
      lines.push(line.slice(0, 600));
      if (lines.length > 200) lines.shift();
    }
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const proc: ServerProcess = {
    name: opts.name,
    url,
    port,
    child,
    exited,
    logs: () => `--- ${opts.name} (pid ${child.pid}) ---\n${lines.join("\n")}`,
    api: (method, path, o) => request(url, method, path, o),
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stop(timeoutMs = 20_000) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  let gone = false;
  void exited.then(() => (gone = true));
  for (let attempt = 0; attempt < 1_000; attempt++) {
    if (gone) throw new Error(`${opts.name} exited before it was ready\n${proc.logs()}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(
        `${opts.name} was not ready within ${opts.readyTimeoutMs ?? 60_000} ms\n${proc.logs()}`,
      );
    }
    const res = await request(url, "GET", "/healthz", { token: null, timeoutMs: 2_000 });
    if (res.status === 200) return proc;
    await sleep(150);
  }
  throw new Error(`${opts.name} never became ready\n${proc.logs()}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- Postgres

/** An empty database of its own on `adminUrl`'s server (no migrations applied). */
export const scratchDatabase = (adminUrl: string) => scratchDatabaseOn(adminUrl, "agentex_f");

/** A direct connection pool to a database, for checking invariants "straight in the database". */
/** A pool straight to the database at `url`, typed with the registry's schema. */
export function directDb(url: string): Kysely<DB> {
  return rawPostgres(url) as Kysely<DB>;
}

export interface PrivatePostgres {
  url: string;
  port: number;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: open sessions are terminated, as in a real restart. */
  stop(): Promise<void>;
  /** Stops it and deletes its data directory. */
  destroy(): Promise<void>;
}

function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) {
    throw new Error(
      `no PostgreSQL server binaries under ${root} (initdb, pg_ctl): install the postgresql package to run the fault tests`,
    );
  }
  return join(root, versions[0], "bin");
}

/**
 * Runs a PostgreSQL binary (asynchronously: the load a test drives keeps
 * running while Postgres stops and starts).
 */
function asPostgres(bin: string, args: string[], timeoutMs = 60_000): Promise<string> {
  // initdb refuses to run as root; the binaries run as the postgres user.
  const [cmd, argv] =
    process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { encoding: "utf8", timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} ${args.join(" ")} failed: ${stderr || stdout || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * A throwaway PostgreSQL cluster in a temp dir on a free loopback port, which
 * a test may stop and restart at will. Never the machine's shared instance.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), "agentex-pg-"));
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    const pgUid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
    if (!Number.isInteger(pgUid))
      throw new Error("running as root, but there is no postgres user to run initdb as");
    chownSync(dir, pgUid, pgUid);
  }
  await asPostgres(join(bin, "initdb"), [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  const port = await freePort();
  const options = `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const pg: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await asPostgres(join(bin, "pg_ctl"), [
        "-D",
        data,
        "-o",
        options,
        "-l",
        join(dir, "postgres.log"),
        "-w",
        "-t",
        "60",
        "start",
      ]);
    },
    async stop() {
      await asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]);
    },
    async destroy() {
      try {
        if (existsSync(join(data, "postmaster.pid"))) {
          await asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "60", "stop"]);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  await pg.start();
  return pg;
}
