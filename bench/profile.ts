/**
 * Drives GET one agent against a running server for a CPU profile:
 *   node --cpu-prof --import tsx apps/server/src/main.ts   # with DATABASE_URL, AGENTEX_BOOTSTRAP_TOKEN=$TOKEN, …
 *   DATABASE_URL=… BENCH_TOKEN=… tsx bench/profile.ts http://127.0.0.1:8000 rest|trpc [seconds]
 * then stop the server (SIGTERM) and open the .cpuprofile it wrote.
 */
import pg from "pg";
import { load } from "./loadgen.ts";

async function main() {
  const [url = "http://127.0.0.1:8000", kind = "rest", secs = "10"] = process.argv.slice(2);
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  const ids = (
    await c.query<{ id: string }>(`select id from agents where status <> 'Deleted' limit 1000`)
  ).rows.map((r) => r.id);
  await c.end();
  const auth = {
    authorization: `Bearer ${process.env.BENCH_TOKEN ?? "agx_pat_bench_admin_token_0123456789abcdef"}`,
  };
  const path =
    kind === "trpc"
      ? (i: number) =>
          `/trpc/agents.get?input=${encodeURIComponent(JSON.stringify({ agent_id: ids[i % ids.length] }))}`
      : (i: number) => `/api/agents/${ids[i % ids.length]}`;
  const r = await load(
    url,
    { path, headers: auth },
    { connections: Number(process.env.BENCH_CONNECTIONS ?? 32), durationMs: Number(secs) * 1000 },
  );
  console.log(
    `${kind}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${JSON.stringify(r.statuses)}`,
  );
}

void main();
