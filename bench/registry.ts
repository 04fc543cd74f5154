/**
 * `pnpm bench`: the registry against a bare `node:http` + `pg` server on the
 * same PostgreSQL, measured in one run with the configurations alternated
 * round by round, so ratios are taken between neighbours in time (the machine
 * is shared and noisy; absolute req/s drift, ratios much less).
 *
 *   pnpm bench                                   # 1M agents, 5 rounds
 *   BENCH_QUICK=1 pnpm bench                     # 100k agents, 2 short rounds
 *   BENCH_AGENTS=200000 BENCH_ROUNDS=3 BENCH_SECONDS=3 BENCH_CONNECTIONS=32 pnpm bench
 *   BENCH_DATABASE_URL=postgres://…/postgres pnpm bench   # any server; creates its own databases
 *
 * Seeds with SQL generate_series (not the API); databases `agentex_bench_small`
 * (BENCH_DB_PREFIX changes the `agentex_bench` prefix)
 * and `agentex_bench_big` are reused when they already hold the right count
 * (BENCH_RESEED=1 rebuilds them). Figures only: no pass/fail.
 */
import { Agent } from "node:http";
import pg from "pg";
import { encodeCursor } from "@agentex/core";
import {
  auth,
  children,
  dbUrl,
  ensureDatabase,
  ids,
  seed,
  SERVER_ARGS,
  startBare,
  startRegistry,
} from "./harness.ts";
import { load, send, type Result, type Target } from "./loadgen.ts";

const QUICK = process.env.BENCH_QUICK === "1";
const BIG = Number(process.env.BENCH_AGENTS ?? (QUICK ? 100_000 : 1_000_000));
const SMALL = 1_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5));
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 2 : 5));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PAGE = 50;

/** The keyset cursor of the row at `offset` in the default order (created_at desc), as the server issues it. */
async function cursorAt(client: pg.Client, offset: number): Promise<string> {
  const { rows } = await client.query<{ k: string; id: string }>(
    `select created_at::text as k, id from agents where status <> 'Deleted' order by created_at desc, id desc offset $1 limit 1`,
    [offset],
  );
  return encodeCursor("agents:created_at:desc:", rows[0]!.k, rows[0]!.id);
}

const trpcInput = (input: unknown) => `?input=${encodeURIComponent(JSON.stringify(input))}`;

interface Config {
  label: string;
  url: () => string;
  target: Target;
  /** The label whose same-round req/s is the ratio's denominator. */
  vs?: string;
}

function fmt(n: number, digits = 0) {
  return n.toFixed(digits);
}

/** Runs every config once per round, in turn; prints medians and same-round ratios. */
async function compare(title: string, configs: Config[], connections = CONNECTIONS, rounds = ROUNDS) {
  console.log(`\n## ${title} (${connections} connections, ${rounds} rounds × ${SECONDS} s, alternated)`);
  const results = new Map<string, Result[]>(configs.map((c) => [c.label, []]));
  for (const c of configs) await load(c.url(), c.target, { connections, durationMs: 300 }); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const c of configs)
      results.get(c.label)!.push(await load(c.url(), c.target, { connections, durationMs: SECONDS * 1000 }));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `${"configuration".padEnd(44)} ${"req/s".padStart(7)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)}  ratio      statuses`,
  );
  for (const c of configs) {
    const rs = results.get(c.label)!;
    let ratio = "";
    if (c.vs) {
      const base = results.get(c.vs)!;
      ratio = `${fmt(median(rs.map((x, i) => x.rps / base[i]!.rps)), 2)}× ${c.vs.split(" ")[0]}`;
    }
    const statuses: Record<string, number> = {};
    for (const x of rs) for (const [k, v] of Object.entries(x.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    console.log(
      `${c.label.padEnd(44)} ${fmt(median(rs.map((x) => x.rps))).padStart(7)} ${fmt(median(rs.map((x) => x.p50)), 2).padStart(7)} ${fmt(median(rs.map((x) => x.p99)), 2).padStart(7)}  ${ratio.padEnd(10)} ${JSON.stringify(statuses)}`,
    );
  }
}

async function main() {
  console.log(
    `bench: ${QUICK ? "QUICK " : ""}${BIG} vs ${SMALL} agents, ${CONNECTIONS} connections, server: node ${SERVER_ARGS.join(" ")}`,
  );
  const PREFIX = process.env.BENCH_DB_PREFIX ?? "agentex_bench";
  await ensureDatabase(`${PREFIX}_small`);
  await ensureDatabase(`${PREFIX}_big`);
  const small = await startRegistry("registry-small", { DATABASE_URL: dbUrl(`${PREFIX}_small`) });
  const big = await startRegistry("registry-big", { DATABASE_URL: dbUrl(`${PREFIX}_big`) });
  const smallDb = new pg.Client({ connectionString: dbUrl(`${PREFIX}_small`) });
  const bigDb = new pg.Client({ connectionString: dbUrl(`${PREFIX}_big`) });
  await smallDb.connect();
  await bigDb.connect();
  await seed(smallDb, SMALL);
  await seed(bigDb, BIG);
  const bare = await startBare(dbUrl(`${PREFIX}_big`));
  const embedded = await startRegistry("registry-embedded", { AGENTEX_DATA_DIR: "memory://" });

  // ---- one agent by id
  const bigIds = await ids(bigDb, 1000);
  const embeddedIds: string[] = [];
  for (let i = 0; i < 200; i++) {
    const r = await send(
      new Agent(),
      new URL(embedded.url),
      "POST",
      "/api/agents/register-build",
      auth,
      JSON.stringify({ name: `emb-${i}`, description: "bench" }),
    );
    embeddedIds.push(JSON.parse(r.text).id);
  }
  const byId = (prefix: string, list: string[], suffix = ""): Target => ({
    path: (i) => `${prefix}${list[i % list.length]}${suffix}`,
    headers: auth,
  });
  const bareLabel = "bare node:http + pg (no auth)";
  /** GET one agent by id over REST and tRPC, beside the bare server reading the same (Postgres) ids. */
  const getOneAgent = (title: string, url: () => string, ids: string[], labelPrefix = "") =>
    compare(title, [
      { label: bareLabel, url: () => bare.url, target: byId("/agents/", bigIds) },
      {
        label: `${labelPrefix}REST GET /api/agents/{id}`,
        url,
        target: byId("/api/agents/", ids),
        vs: bareLabel,
      },
      {
        label: `${labelPrefix}tRPC agents.get`,
        url,
        target: {
          path: (i) => `/trpc/agents.get${trpcInput({ agent_id: ids[i % ids.length] })}`,
          headers: auth,
        },
        vs: bareLabel,
      },
    ]);
  await getOneAgent("GET one agent by id (Postgres, 1M-agent database)", () => big.url, bigIds);
  await getOneAgent(
    "GET one agent by id (embedded store; ratio against the bare Postgres server)",
    () => embedded.url,
    embeddedIds,
    "embedded ",
  );

  // ---- lists: a page in the middle, 1M vs 1k
  const bigCursor = await cursorAt(bigDb, Math.floor(BIG / 2));
  const smallCursor = await cursorAt(smallDb, Math.floor(SMALL / 2));
  const restCursor = await send(
    new Agent(),
    new URL(big.url),
    "GET",
    `/api/agents?limit=${PAGE}&cursor=${bigCursor}`,
    auth,
  );
  const restKeyset = restCursor.status === 200 && typeof restCursor.headers["x-next-cursor"] === "string";
  if (!restKeyset)
    console.log(
      `\n(REST GET /api/agents?cursor= not supported by this server: ${restCursor.status}, no x-next-cursor)`,
    );
  const listConn = Math.min(CONNECTIONS, 8);
  const restList = (cursor: string): Target => ({
    path: () => `/api/agents?limit=${PAGE}&cursor=${cursor}`,
    headers: auth,
  });
  const trpcList = (cursor: string): Target => ({
    path: () => `/trpc/agents.listPage${trpcInput({ limit: PAGE, cursor })}`,
    headers: auth,
  });
  const lists: Config[] = [
    {
      label: `tRPC listPage keyset, middle of ${SMALL}`,
      url: () => small.url,
      target: trpcList(smallCursor),
    },
    {
      label: `tRPC listPage keyset, middle of ${BIG}`,
      url: () => big.url,
      target: trpcList(bigCursor),
      vs: `tRPC listPage keyset, middle of ${SMALL}`,
    },
  ];
  if (restKeyset) {
    lists.push(
      {
        label: `REST ?cursor= keyset, middle of ${SMALL}`,
        url: () => small.url,
        target: restList(smallCursor),
      },
      {
        label: `REST ?cursor= keyset, middle of ${BIG}`,
        url: () => big.url,
        target: restList(bigCursor),
        vs: `REST ?cursor= keyset, middle of ${SMALL}`,
      },
    );
  }
  const midPage = (n: number) => Math.max(1, Math.floor(n / PAGE / 2));
  lists.push(
    {
      label: `REST ?page_number= middle of ${SMALL}`,
      url: () => small.url,
      target: { path: () => `/api/agents?limit=${PAGE}&page_number=${midPage(SMALL)}`, headers: auth },
    },
    {
      label: `REST ?page_number= middle of ${BIG}`,
      url: () => big.url,
      target: { path: () => `/api/agents?limit=${PAGE}&page_number=${midPage(BIG)}`, headers: auth },
      vs: `REST ?page_number= middle of ${SMALL}`,
    },
    {
      label: `REST ?page_number= last page of ${BIG}`,
      url: () => big.url,
      target: { path: () => `/api/agents?limit=${PAGE}&page_number=${Math.ceil(BIG / PAGE)}`, headers: auth },
      vs: `REST ?page_number= middle of ${SMALL}`,
    },
  );
  await compare(
    `Lists: a ${PAGE}-row page (ratio = latency-bound req/s vs the 1k-agent page)`,
    lists,
    listConn,
  );

  // ---- writes (Postgres, small database)
  const runId = Date.now().toString(36);
  const { rows: agents } = await smallDb.query<{ id: string }>(
    `insert into agents (name, status, status_reason, acp_type) select 'w-${runId}-' || g, 'BuildOnly', 'built', 'async' from generate_series(1, 64) g returning id`,
  );
  const writeAgents = agents.map((a) => a.id);
  // two Ready deployments per agent to promote back and forth
  const { rows: deps } = await smallDb.query<{ id: string; agent_id: string }>(
    `insert into deployments (agent_id, status, acp_url) select a, 'Ready', 'http://pod:8000' from unnest($1::uuid[]) a, generate_series(1, 2) returning id, agent_id`,
    [writeAgents],
  );
  const depsOf = new Map<string, string[]>();
  for (const d of deps) depsOf.set(d.agent_id, [...(depsOf.get(d.agent_id) ?? []), d.id]);
  await compare(
    "Writes (Postgres)",
    [
      {
        label: "registerBuild (new name)",
        url: () => small.url,
        target: {
          method: "POST",
          path: () => "/api/agents/register-build",
          body: (i) => ({
            name: `rb-${runId}-${i}-${Math.random().toString(36).slice(2, 8)}`,
            description: "bench",
          }),
          headers: auth,
        },
      },
      {
        label: "registerBuild (idempotent)",
        url: () => small.url,
        target: {
          method: "POST",
          path: () => "/api/agents/register-build",
          body: (i) => ({ name: `w-${runId}-${(i % 64) + 1}`, description: "bench" }),
          headers: auth,
        },
      },
      {
        label: "register (deployment-scoped)",
        url: () => small.url,
        target: {
          method: "POST",
          path: () => "/api/agents/register",
          body: (i) => ({
            name: `w-${runId}-${(i % 64) + 1}`,
            description: "bench",
            acp_url: `http://pod-${i}:8000`,
            acp_type: "async",
            registration_metadata: { deployment_id: depsOf.get(writeAgents[i % 64]!)![0] },
          }),
          headers: auth,
        },
      },
      {
        label: "promote (64 agents, alternating)",
        url: () => small.url,
        target: {
          method: "POST",
          path: (i) => {
            const a = writeAgents[i % 64]!;
            return `/api/agents/${a}/deployments/${depsOf.get(a)![Math.floor(i / 64) % 2]}/promote`;
          },
          headers: auth,
        },
      },
    ],
    Math.min(CONNECTIONS, 16),
    QUICK ? 1 : Math.min(ROUNDS, 3),
  );

  // ---- 64-way promote contention on one agent
  console.log("\n## 64 concurrent promotes of 64 different Ready deployments of one agent");
  for (let round = 0; round < (QUICK ? 2 : 5); round++) {
    const {
      rows: [agent],
    } = await smallDb.query<{ id: string }>(
      `insert into agents (name, status, status_reason, acp_type) values ('c-${runId}-${round}', 'BuildOnly', 'built', 'async') returning id`,
    );
    const { rows: cands } = await smallDb.query<{ id: string }>(
      `insert into deployments (agent_id, status, acp_url) select $1, 'Ready', 'http://pod-' || g || ':8000' from generate_series(1, 64) g returning id`,
      [agent!.id],
    );
    const agentPool = new Agent({ keepAlive: true, maxSockets: 64 });
    const started = performance.now();
    const statuses = await Promise.all(
      cands.map((d) =>
        send(
          agentPool,
          new URL(small.url),
          "POST",
          `/api/agents/${agent!.id}/deployments/${d.id}/promote`,
          auth,
        ).then(
          (r) => r.status,
          () => 0,
        ),
      ),
    );
    const wall = performance.now() - started;
    agentPool.destroy();
    const {
      rows: [check],
    } = await smallDb.query<{ n: number; ok: boolean }>(
      `select count(*)::int as n, bool_and(a.production_deployment_id = d.id) as ok from deployments d join agents a on a.id = d.agent_id where d.agent_id = $1 and d.is_production`,
      [agent!.id],
    );
    const tally: Record<number, number> = {};
    for (const s of statuses) tally[s] = (tally[s] ?? 0) + 1;
    const fivexx = statuses.filter((s) => s >= 500 || s === 0).length;
    console.log(
      `round ${round + 1}: ${fmt(wall)} ms wall, statuses ${JSON.stringify(tally)}, 5xx ${fivexx}, production deployments ${check!.n}, pointer agrees ${check!.ok}`,
    );
  }

  await smallDb.end();
  await bigDb.end();
  for (const c of children) c.kill("SIGTERM");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
