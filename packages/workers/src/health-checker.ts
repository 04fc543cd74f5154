import { randomUUID } from "node:crypto";
import type { DB, Kysely } from "@agentex/db";
import {
  claimDueAgents,
  claimDueDeployments,
  recordProbe,
  releaseHealthClaims,
  type HealthPolicy,
  type Logger,
  type ProbeResult,
  type ProbeTarget,
} from "@agentex/core";
import type { Worker } from "./worker.ts";

export interface HealthCheckerOptions extends HealthPolicy {
  db: Kysely<DB>;
  /** Path appended to each registered URL (default `/healthz`). */
  path: string;
  timeoutMs: number;
  /** How often this replica looks for due targets (default a quarter of the interval, at most 1 s). */
  tickMs?: number;
  /** This replica's identity, which its claims carry (a uuid: `Workers.owner`); random by default. */
  owner?: string;
  /** Targets probed at once by this replica. */
  concurrency?: number;
  /** A health change committed: the last event id (the host NOTIFYs the feed). */
  onChange?: (lastEventId: number) => void;
  log?: Logger;
}

/** The URL probed for a registered `acp_url`: the health path under it. Nothing else is ever requested. */
export function probeUrl(acpUrl: string, path: string): string | null {
  let base: URL;
  try {
    base = new URL(acpUrl);
  } catch {
    return null;
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") return null;
  const prefix = base.pathname.replace(/\/+$/, "");
  base.pathname = `${prefix}${path.startsWith("/") ? path : `/${path}`}`;
  base.search = "";
  base.hash = "";
  return base.toString();
}

/** One GET, no redirects followed (a 3xx is a failure), bounded by `timeoutMs`; 2xx is healthy. */
export async function probe(acpUrl: string, path: string, timeoutMs: number): Promise<ProbeResult> {
  const url = probeUrl(acpUrl, path);
  if (!url) return { ok: false, error: "the registered URL is not an http(s) URL" };
  try {
    const res = await fetch(url, {
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true, error: null };
    return { ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === "TimeoutError" || e.name === "AbortError")
      return { ok: false, error: `no answer within ${timeoutMs} ms` };
    return { ok: false, error: e.cause?.code ? `connection failed (${e.cause.code})` : "connection failed" };
  }
}

/**
 * Probes due targets, a per-replica worker whose work is shared out row by
 * row: every replica ticks, and each target is claimed under a row lease in
 * the database (queries/leases.ts, SKIP LOCKED), so exactly one replica
 * probes it at a time. If that replica dies, the lease expires (timeout + a
 * quarter interval, at most 1 s) and another claims the target; if it stops,
 * it releases its claims and the others take them at once.
 */
export class HealthChecker implements Worker {
  readonly name = "health";
  readonly intervalMs: number;
  /** The owner this replica's claims carry (the runner's owner id). */
  readonly owner: string;
  private stopped = false;

  constructor(private readonly opts: HealthCheckerOptions) {
    this.intervalMs = opts.tickMs ?? Math.max(20, Math.min(1_000, Math.floor(opts.intervalMs / 4)));
    this.owner = opts.owner ?? randomUUID();
  }

  tick(): Promise<number> {
    return this.round();
  }

  /** Targets claimed but not yet probed are not started (returns at once). */
  halt(): void {
    this.stopped = true;
  }

  /** After the last round: frees this replica's claims for the others. */
  async stop(): Promise<void> {
    this.halt();
    await releaseHealthClaims(this.opts.db, this.owner);
  }

  /** One round: claim what is due, probe it all concurrently (bounded), record each result. */
  async round(): Promise<number> {
    const limit = this.opts.concurrency ?? 32;
    // Long enough for the probe and its recording; short enough that a dead replica's
    // targets are free again within one interval (the timeout is below the interval).
    const leaseMs =
      this.opts.timeoutMs + Math.min(1_000, Math.max(100, Math.floor(this.opts.intervalMs / 4)));
    let targets: ProbeTarget[];
    try {
      targets = [
        ...(await claimDueAgents(this.opts.db, { lease: this.owner, leaseMs, limit })),
        ...(await claimDueDeployments(this.opts.db, { lease: this.owner, leaseMs, limit })),
      ];
    } catch (err) {
      this.opts.log?.warn({ err }, "health checks: could not claim targets");
      return 0;
    }
    await Promise.all(
      targets.map(async (target) => {
        if (this.stopped) return;
        const result = await probe(target.url, this.opts.path, this.opts.timeoutMs);
        try {
          const { lastEventId } = await recordProbe(this.opts.db, target, this.owner, result, this.opts);
          if (lastEventId !== null) this.opts.onChange?.(lastEventId);
        } catch (err) {
          this.opts.log?.warn({ err, target: target.id }, "health checks: could not record a result");
        }
      }),
    );
    return targets.length;
  }
}
