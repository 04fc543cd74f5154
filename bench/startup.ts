/**
 * Cold start and memory of the real server process, the way users run it:
 *   - cold start to the first 200 from /healthz, on a fresh data directory
 *     (embedded) or an empty database (Postgres), then again on the existing one;
 *   - RSS of the serving process idle, and its peak under a read load.
 * Figures only (no thresholds): `pnpm bench` prints them for the embedded store,
 * and for Postgres too when DATABASE_URL is set.
 *
 * The server command defaults to the compiled server (`node apps/server/dist/main.js`,
 * built by `pnpm build`); BENCH_SERVER_CMD overrides it (e.g. to measure a source
 * checkout: `node --import tsx apps/server/src/main.ts`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rawPostgres } from "@agentex/db/testing";
import { freePort } from "@agentex/testing";
import { sql } from "kysely";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TOKEN = `agx_pat_bench_${randomBytes(12).toString("hex")}`;
const SECRET = "bench-secret-key-of-at-least-32-characters";

export function serverCommand(): string[] {
  const custom = process.env.BENCH_SERVER_CMD;
  if (custom) return custom.split(/\s+/).filter(Boolean);
  return [process.execPath, join(ROOT, "apps/server/dist/main.js")];
}

/** Every pid in the tree rooted at `pid` (Linux /proc). */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) the tree has used: a start-up figure that does not depend on how busy the machine is. */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

/** RSS of the serving process (the largest in the tree) and of the whole tree. */
function memory(pid: number): { serving: number; tree: number; processes: number } {
  const pids = tree(pid);
  const rss = pids.map(rssMiB);
  return { serving: Math.max(...rss), tree: rss.reduce((a, b) => a + b, 0), processes: pids.length };
}

interface Running {
  child: ChildProcess;
  url: string;
  startMs: number;
  startCpu: number;
  stop(): Promise<void>;
}

async function start(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const [cmd, ...args] = serverCommand();
  const t0 = performance.now();
  const child = spawn(cmd!, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "warn",
      AGENTEX_BOOTSTRAP_TOKEN: TOKEN,
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (gone) throw new Error(`server exited before it was ready:\n${stderr}`);
    if (performance.now() - t0 > 300_000) {
      child.kill("SIGKILL");
      throw new Error(`server not ready in 300 s:\n${stderr}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const startMs = performance.now() - t0;
  return {
    child,
    url,
    startMs,
    startCpu: cpuSeconds(child.pid!),
    async stop() {
      for (const p of tree(child.pid!).slice(1).reverse()) {
        try {
          process.kill(p, "SIGTERM");
        } catch {
          // gone
        }
      }
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function api(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Reads for `seconds` at `concurrency`, sampling the serving RSS; returns peak RSS and request rate. */
async function readLoad(s: Running, seconds = 5, concurrency = 16): Promise<{ peak: number; rps: number }> {
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) {
    const a = await api(s.url, "POST", "/api/agents/register-build", {
      name: `bench-${i}`,
      description: "bench agent",
    });
    ids.push(a.id);
  }
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, memory(s.child.pid!).serving)), 50);
  const until = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < until) {
        if ((n + w) % 2) await api(s.url, "GET", "/api/agents?limit=100");
        else await api(s.url, "GET", `/api/agents/${ids[n % ids.length]}`);
        n++;
      }
    }),
  );
  clearInterval(sampler);
  peak = Math.max(peak, memory(s.child.pid!).serving);
  return { peak, rps: n / seconds };
}

const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (m: number) => `${m.toFixed(0)} MiB`;

/** An empty store for one scenario, and how to remove it afterwards. */
interface FreshStore {
  env: Record<string, string>;
  cleanup: () => void | Promise<void>;
}

async function scenario(store: string, freshEnv: () => FreshStore | Promise<FreshStore>) {
  const { env, cleanup } = await freshEnv();
  try {
    const cold = await start(env);
    const coldMem = memory(cold.child.pid!);
    await cold.stop();
    const warm = await start(env);
    await new Promise((r) => setTimeout(r, 2000));
    const idle = memory(warm.child.pid!);
    const load = await readLoad(warm);
    await warm.stop();
    console.log(
      `${store.padEnd(9)} cold start to /healthz: fresh ${f(cold.startMs)} (${cold.startCpu.toFixed(2)} s CPU), existing ${f(warm.startMs)} (${warm.startCpu.toFixed(2)} s CPU) | ` +
        `RSS idle ${mb(idle.serving)} (tree ${mb(idle.tree)}, ${idle.processes} process${idle.processes > 1 ? "es" : ""}), ` +
        `under read load ${mb(load.peak)} (${load.rps.toFixed(0)} req/s) | RSS right after fresh start ${mb(coldMem.serving)}`,
    );
  } catch (err) {
    console.log(`${store.padEnd(9)} failed: ${(err as Error).message}`);
  } finally {
    try {
      await cleanup();
    } catch (err) {
      console.log(`cleanup: ${(err as Error).message}`);
    }
  }
}

export async function benchStartup(): Promise<void> {
  const [cmd, ...args] = serverCommand();
  if (!process.env.BENCH_SERVER_CMD && !existsSync(args[0]!)) {
    throw new Error("no compiled server: run `pnpm build` first");
  }
  console.log(`server: ${[cmd, ...args].join(" ")}`);
  await scenario("embedded", () => {
    const dir = mkdtempSync(join(tmpdir(), "agentex-bench-"));
    return {
      env: { AGENTEX_DATA_DIR: join(dir, "data") },
      cleanup: () => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }),
    };
  });
  const url = process.env.DATABASE_URL;
  if (url) {
    await scenario("postgres", async () => {
      const name = `agentex_bench_${randomBytes(5).toString("hex")}`;
      const admin = rawPostgres(url);
      await sql`create database ${sql.raw(name)}`.execute(admin);
      await admin.destroy();
      const u = new URL(url);
      u.pathname = `/${name}`;
      return {
        env: { DATABASE_URL: u.toString(), AGENTEX_SECRET_KEY: SECRET },
        async cleanup() {
          const c = rawPostgres(url);
          await sql`drop database if exists ${sql.raw(name)} with (force)`.execute(c);
          await c.destroy();
        },
      };
    });
  } else {
    console.log("postgres  (skipped: set DATABASE_URL to measure the Postgres store too)");
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchStartup();
