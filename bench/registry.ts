/**
 * Prints throughput and latency figures for the hot paths, on the embedded
 * store or on Postgres when DATABASE_URL is set:
 *   pnpm bench                      # embedded (PGlite, in memory)
 *   DATABASE_URL=postgres://… pnpm bench
 * Figures only: no thresholds here (targets belong in review, not in tests).
 */
import { bootstrapAdmin, createCaller, createContextInner, authenticate } from '@agentex/api';
import { createTestDatabase } from '@agentex/db/testing';

const N_AGENTS = Number(process.env.BENCH_AGENTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

function pct(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function measure(label: string, n: number, op: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(34)} ${String(n).padStart(6)} ops  ${(n / seconds).toFixed(0).padStart(6)} ops/s  p50 ${pct(latencies, 50).toFixed(2)} ms  p99 ${pct(latencies, 99).toFixed(2)} ms`,
  );
}

const database = await createTestDatabase();
const token = 'agx_pat_bench_admin_token_0123456789';
await bootstrapAdmin(database.db, token);
const principal = (await authenticate(database.db, token))!;
const caller = createCaller(
  createContextInner({ db: database.db, secretKey: Buffer.from('bench-secret-key-of-at-least-32-chars'), principal }),
);
console.log(`store: ${database.kind}, agents: ${N_AGENTS}, concurrency: ${CONCURRENCY}`);

const ids: string[] = [];
await measure('agents.registerBuild (new)', N_AGENTS, async (i) => {
  const a = await caller.agents.registerBuild({ name: `bench-${i}`, description: 'bench' });
  ids[i] = a.id;
});
await measure('agents.registerBuild (idempotent)', 500, (i) =>
  caller.agents.registerBuild({ name: `bench-${i % N_AGENTS}`, description: 'bench' }),
);
await measure('agents.get', 2000, (i) => caller.agents.get({ agent_id: ids[i % ids.length]! }));
await measure('authenticate (token hash lookup)', 2000, () => authenticate(database.db, token));

const agentId = ids[0]!;
const deps: string[] = [];
await measure('deployments.create', 200, async (i) => {
  const d = await caller.deployments.create({ agent_id: agentId, docker_image: `img:${i}` });
  deps[i] = d.id;
});
await measure('agents.register (deployment-scoped)', 200, (i) =>
  caller.agents.register({
    name: 'bench-0',
    description: 'bench',
    acp_url: `http://pod-${i}:8000`,
    acp_type: 'async',
    registration_metadata: { deployment_id: deps[i]! },
  }),
);
await measure('deployments.promote', 200, (i) => caller.deployments.promote({ agent_id: agentId, deployment_id: deps[i]! }));

const deepPage = Math.floor(N_AGENTS / 100);
await measure(`agents.list offset page ${deepPage} (100)`, 50, () =>
  caller.agents.list({ limit: 100, page_number: deepPage, order_by: 'created_at', order_direction: 'desc' }),
);
let cursor: string | null = null;
let pages = 0;
const walkStart = performance.now();
do {
  const page: { next_cursor: string | null } = await caller.agents.listPage({
    limit: 100,
    order_by: 'created_at',
    order_direction: 'desc',
    cursor,
  });
  cursor = page.next_cursor;
  pages++;
} while (cursor);
const walkMs = performance.now() - walkStart;
console.log(`${'agents.listPage full keyset walk'.padEnd(34)} ${String(pages).padStart(6)} pages ${(walkMs / pages).toFixed(2)} ms/page`);

const mem = process.memoryUsage();
console.log(`memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);
await database.close();
