/** Small, bounded load-driving utilities for the fault tests. */
import type { ApiResult } from "../process.ts";

/** Deterministic PRNG (mulberry32) so a failing interleaving can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Runs `tasks` with at most `concurrency` in flight. Bounded twice: by the
 * task count and by `deadlineMs` (tasks not started by then are skipped and
 * counted in `skipped`).
 */
export async function runBounded<T>(
  tasks: Array<() => Promise<T>>,
  concurrency: number,
  deadlineMs = 60_000,
): Promise<{ results: T[]; skipped: number }> {
  const results: T[] = [];
  const stopAt = Date.now() + deadlineMs;
  let next = 0;
  let skipped = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      if (Date.now() > stopAt) {
        skipped++;
        continue;
      }
      results.push(await task());
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return { results, skipped };
}

export interface Sample {
  label: string;
  server: string;
  status: number;
  ms: number;
  body: unknown;
}

/** Every response the load saw, and the ones that must fail the test. */
export class Tally {
  readonly samples: Sample[] = [];

  record(label: string, server: string, res: ApiResult): ApiResult {
    this.samples.push({ label, server, status: res.status, ms: res.ms, body: res.body });
    return res;
  }

  get total() {
    return this.samples.length;
  }

  /** 5xx answers. */
  serverErrors(filter: (s: Sample) => boolean = () => true) {
    return this.samples.filter((s) => s.status >= 500 && filter(s));
  }

  /** No answer at all: refused/reset (0) or given up on (-1). */
  transportFailures(filter: (s: Sample) => boolean = () => true) {
    return this.samples.filter((s) => s.status <= 0 && filter(s));
  }

  byStatus(filter: (s: Sample) => boolean = () => true): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.samples) if (filter(s)) out[s.status] = (out[s.status] ?? 0) + 1;
    return out;
  }

  /** A few offending samples, for assertion messages. */
  static show(samples: Sample[], max = 5): string {
    return samples
      .slice(0, max)
      .map(
        (s) =>
          `${s.server} ${s.label} -> ${s.status} in ${Math.round(s.ms)}ms: ${JSON.stringify(s.body)?.slice(0, 300)}`,
      )
      .join("\n");
  }
}
