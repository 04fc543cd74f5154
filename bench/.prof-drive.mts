import pg from 'pg';
import { load } from './loadgen.ts';
const [url, kind, secs] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4] ?? 10)];
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/agentex_bbase_big' }); await c.connect();
const ids = (await c.query(`select id from agents where name like 'seed-%' limit 1000`)).rows.map((r) => r.id); await c.end();
const auth = { authorization: 'Bearer agx_pat_bench_admin_token_0123456789abcdef' };
const path = kind === 'trpc' ? (i: number) => `/trpc/agents.get?input=${encodeURIComponent(JSON.stringify({ agent_id: ids[i % ids.length] }))}` : (i: number) => `/api/agents/${ids[i % ids.length]}`;
const r = await load(url, { path, headers: auth }, { connections: 32, durationMs: secs * 1000 });
console.log(kind, r.rps.toFixed(0), 'req/s', r.p50.toFixed(1), r.p99.toFixed(1), JSON.stringify(r.statuses));
