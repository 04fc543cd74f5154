/**
 * GET one agent, authenticated, through each transport of one registry on
 * PostgreSQL, beside a bare node:http + pg server reading the same rows; the
 * load comes from wrk. Configurations are alternated round by round (each
 * round in a rotated order), so every ratio is taken between neighbours in
 * time on a shared, noisy machine.
 *
 *   tsx bench/transports.ts
 *   BENCH_ROUNDS=7 BENCH_SECONDS=5 BENCH_CONNECTIONS=32 BENCH_THREADS=1 tsx bench/transports.ts
 *
 * A round whose bare baseline serves under 2,000 req/s gives no ratio: the
 * machine was saturated by something else, and the figures say more about
 * that than about the transports. Figures only: no pass/fail.
 */
import { loadavg } from "node:os";
import pg from "pg";
import { auth, dbUrl, ensureDatabase, ids, seed, startBare, startRegistry, stopAll } from "./harness.ts";
import { wrk, type WrkResult } from "./wrk.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 10_000);
const DATABASE = `${process.env.BENCH_DB_PREFIX ?? "agentex_bench"}_transports`;
/** Below this the bare server is starved of CPU and no ratio means anything. */
const SATURATED_RPS = 2_000;

interface Config {
  label: string;
  /** Its name in the per-round lines. */
  short: string;
  url: string;
  paths: string[];
  headers: Record<string, string>;
}

const BARE = "bare node:http + pg (no auth)";
const ADAPTER = "tRPC agents.get (official fastify adapter)";

const loads = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

const fmt = (n: number, digits = 0) => n.toFixed(digits);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  await ensureDatabase(DATABASE);
  const registry = await startRegistry("registry", { DATABASE_URL: dbUrl(DATABASE) });
  const client = new pg.Client({ connectionString: dbUrl(DATABASE) });
  await client.connect();
  await seed(client, AGENTS);
  const agentIds = await ids(client, 1000);
  await client.end();
  const bare = await startBare(dbUrl(DATABASE));

  const trpcPaths = agentIds.map(
    (id) => `/trpc/agents.get?input=${encodeURIComponent(JSON.stringify({ agent_id: id }))}`,
  );
  const configs: Config[] = [
    {
      label: BARE,
      short: "bare",
      url: bare.url,
      paths: agentIds.map((id) => `/agents/${id}`),
      headers: auth,
    },
    {
      label: "REST GET /api/agents/{id}",
      short: "REST",
      url: registry.url,
      paths: agentIds.map((id) => `/api/agents/${id}`),
      headers: auth,
    },
    // Any `trpc-accept` header sends a call past the fast path to the adapter.
    {
      label: ADAPTER,
      short: "adapter",
      url: registry.url,
      paths: trpcPaths,
      headers: { ...auth, "trpc-accept": "application/json" },
    },
    {
      label: "tRPC agents.get (fast path)",
      short: "fast",
      url: registry.url,
      paths: trpcPaths,
      headers: auth,
    },
  ];

  console.log(
    `transports: GET one agent of ${AGENTS}, wrk ${THREADS} thread(s) × ${CONNECTIONS} connections, ` +
      `${ROUNDS} rounds × ${SECONDS} s, alternated; load average ${loads()}`,
  );
  for (const c of configs) await wrk({ ...c, connections: CONNECTIONS, threads: THREADS, seconds: 1 }); // warm-up
  const results = new Map<string, WrkResult[]>(configs.map((c) => [c.label, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = configs.map((_, i) => configs[(i + round) % configs.length]!);
    const line: string[] = [];
    for (const c of order) {
      const r = await wrk({ ...c, connections: CONNECTIONS, threads: THREADS, seconds: SECONDS });
      results.get(c.label)!.push(r);
      line.push(`${c.short} ${fmt(r.rps)}`);
    }
    console.log(`round ${round + 1}: ${line.join(", ")} req/s; load average ${loads()}`);
  }

  const bareRps = results.get(BARE)!.map((r) => r.rps);
  const usable = bareRps.map((rps) => rps >= SATURATED_RPS);
  console.log(
    `\n${"configuration".padEnd(44)} ${"req/s".padStart(7)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)}  ${"vs bare".padEnd(8)} errors`,
  );
  /** The median over the unsaturated rounds of a's req/s over b's in the same round; null when there are none. */
  const ratio = (a: string, b: string): string => {
    const xs = results.get(a)!.flatMap((r, i) => (usable[i] ? [r.rps / results.get(b)![i]!.rps] : []));
    return xs.length ? `${fmt(median(xs), 2)}×` : "-";
  };
  for (const c of configs) {
    const rs = results.get(c.label)!;
    const failures = rs.reduce(
      (n, r) => n + r.non2xx + Object.values(r.errors).reduce((a, b) => a + b, 0),
      0,
    );
    console.log(
      `${c.label.padEnd(44)} ${fmt(median(rs.map((r) => r.rps))).padStart(7)} ${fmt(median(rs.map((r) => r.p50)), 2).padStart(7)} ${fmt(median(rs.map((r) => r.p99)), 2).padStart(7)}  ${(c.label === BARE ? "" : ratio(c.label, BARE)).padEnd(8)} ${failures}`,
    );
  }
  const kept = usable.filter(Boolean).length;
  if (kept < ROUNDS)
    console.log(
      `\n${ROUNDS - kept} of ${ROUNDS} rounds had the bare baseline under ${SATURATED_RPS} req/s (a saturated machine): no ratio from them`,
    );
  for (const c of configs.slice(1)) {
    if (c.label === ADAPTER) continue;
    console.log(`${c.label} / ${ADAPTER}: ${ratio(c.label, ADAPTER)}`);
  }
  console.log(`load average at the end: ${loads()}`);
}

main()
  .then(stopAll)
  .then(
    () => process.exit(0),
    async (err: unknown) => {
      console.error(err);
      await stopAll();
      process.exit(1);
    },
  );
