/**
 * What the benches share: registry and bare server processes on a PostgreSQL
 * server, one database per data set, seeded with SQL.
 *
 *   BENCH_DATABASE_URL=postgres://…/postgres   # any server; the benches create their own databases
 *   BENCH_RESEED=1                             # rebuild those databases
 *   BENCH_LOG_LEVEL=warn                       # the registry's log level (default info, as deployed)
 *   BENCH_NODE_ARGS="--cpu-prof"               # extra node flags for the registry
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Agent } from "node:http";
import { fileURLToPath } from "node:url";
import { freePort, serverEnv } from "@agentex/testing";
import pg from "pg";
import { send } from "./loadgen.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** How the real server is started; switch to `['dist/apps/server/src/main.js']` (or wherever the build puts it) to bench the compiled build. */
export const SERVER_ARGS = ["--import", "tsx", "apps/server/src/main.ts"];
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const TOKEN = "agx_pat_bench_admin_token_0123456789abcdef";
const SECRET = "bench-secret-key-of-at-least-32-characters";
export const auth = { authorization: `Bearer ${TOKEN}` };

export function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export const children: ChildProcess[] = [];
process.on("exit", () => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL")));

/** Stops every process the bench started and waits for them to exit. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("exit", () => resolve());
          c.kill("SIGTERM");
        }),
    ),
  );
}

export async function startProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  health: string,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const tail: string[] = [];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: serverEnv(port, env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const keep = (c: Buffer) => {
    tail.push(c.toString("utf8"));
    if (tail.length > 20) tail.shift();
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const agent = new Agent({ keepAlive: false });
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited:\n${tail.join("")}`);
    try {
      const r = await send(agent, new URL(url), "GET", health, {});
      if (r.status < 500) return { url, child };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not start:\n${tail.join("")}`);
}

export function startRegistry(name: string, env: Record<string, string>) {
  return startProcess(
    name,
    [...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []), ...SERVER_ARGS],
    {
      AGENTEX_BOOTSTRAP_TOKEN: TOKEN,
      AGENTEX_SECRET_KEY: SECRET,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
      ...env,
    },
    "/readyz",
  );
}

/** The bare node:http + pg yardstick (bare-server.ts) on database `url`. */
export function startBare(url: string) {
  return startProcess(
    "bare",
    ["--import", "tsx", "bench/bare-server.ts"],
    { DATABASE_URL: url },
    "/agents/x",
  );
}

export async function ensureDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const exists = await admin.query("select 1 from pg_database where datname = $1", [name]);
    if (exists.rowCount && process.env.BENCH_RESEED === "1")
      await admin.query(`drop database ${name} with (force)`);
    if (!exists.rowCount || process.env.BENCH_RESEED === "1") await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
}

/** Brings the live agent count to `n` with one generate_series insert (after the server migrated the schema). */
export async function seed(client: pg.Client, n: number): Promise<void> {
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from agents where name like 'seed-%'`,
  );
  if (rows[0]!.n === n) return;
  const started = performance.now();
  await client.query(`delete from agents where name like 'seed-%'`);
  await client.query(
    `insert into agents (name, description, status, status_reason, acp_type, registration_metadata, created_at, updated_at)
     select 'seed-' || g, 'seeded agent ' || g, 'BuildOnly', 'built, not deployed', 'async', '{"team": "bench", "tier": 2}'::jsonb,
            now() - g * interval '1 second', now() - g * interval '1 second'
       from generate_series(1, $1::int) g`,
    [n],
  );
  await client.query("vacuum analyze agents");
  console.log(`seeded ${n} agents in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** `n` seeded agent ids in random order. */
export async function ids(client: pg.Client, n: number): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `select id from agents where name like 'seed-%' order by random() limit $1`,
    [n],
  );
  return rows.map((r) => r.id);
}
