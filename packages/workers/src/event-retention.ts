import type { DB, Kysely } from "@agentex/db";
import { purgeEvents, type Logger } from "@agentex/core";
import type { Worker, WorkerLease } from "./worker.ts";

export interface EventRetentionOptions {
  db: Kysely<DB>;
  /** How long events are kept for resuming a change feed (older ones are purged). */
  retentionMs: number;
  /** How often the holder purges (default a tenth of the retention, from 1 s to 60 s). */
  intervalMs?: number;
  /** How long a dead holder keeps the job (default three intervals, from 3 s to 30 s). */
  leaseTtlMs?: number;
  log?: Logger;
}

/**
 * Purges change-feed events older than the retention. A singleton: the
 * replica holding the `event-retention` lease purges, every other replica
 * stands by to take over, so the outbox is swept by one DELETE at a time
 * however many replicas run.
 */
export class EventRetention implements Worker {
  readonly name = "event-retention";
  readonly intervalMs: number;
  readonly lease: WorkerLease;
  /** Events purged by this replica since it started. */
  purged = 0;

  constructor(private readonly opts: EventRetentionOptions) {
    this.intervalMs = opts.intervalMs ?? Math.max(1_000, Math.min(60_000, opts.retentionMs / 10));
    this.lease = {
      name: "event-retention",
      ttlMs: opts.leaseTtlMs ?? Math.max(3_000, Math.min(30_000, 3 * this.intervalMs)),
    };
  }

  async tick(): Promise<number> {
    const n = await purgeEvents(this.opts.db, this.opts.retentionMs);
    this.purged += n;
    return n;
  }
}
