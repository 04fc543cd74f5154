/**
 * A closed-loop HTTP load generator: `connections` keep-alive connections,
 * each sending its next request as soon as the previous answer is read.
 */
import { Agent, request } from "node:http";
import { readAll } from "@agentex/testing";

export interface Target {
  method?: string;
  /** Path for the i-th request overall. */
  path: (i: number) => string;
  /** JSON body for the i-th request (POST/PUT). */
  body?: (i: number) => unknown;
  headers?: Record<string, string>;
}

export interface Result {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  /** Request headers of the last response (for cursors). */
  lastHeaders?: Record<string, string | string[] | undefined>;
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
}

export function send(
  agent: Agent,
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers:
          body === undefined
            ? headers
            : { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        readAll(res).then((reply) => resolve({ ...reply, headers: res.headers }), reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs for `durationMs` (or until `maxRequests`), returns throughput and latency. */
export async function load(
  url: string,
  target: Target,
  opts: { connections: number; durationMs: number; maxRequests?: number },
): Promise<Result> {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  const max = opts.maxRequests ?? Infinity;
  await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      while (performance.now() < deadline && next < max) {
        const i = next++;
        const body = target.body ? JSON.stringify(target.body(i)) : undefined;
        const t = performance.now();
        let status: number;
        try {
          status = (
            await send(agent, base, target.method ?? "GET", target.path(i), target.headers ?? {}, body)
          ).status;
        } catch {
          status = 0;
        }
        latencies.push(performance.now() - t);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    statuses,
  };
}
