import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "@agentex/core";
import type { DB, Kysely } from "@agentex/db";
import { LEASE_CHANNEL, LeaseKeeper } from "./lease-keeper.ts";
import type { Worker } from "./worker.ts";

export interface WorkersOptions {
  db: Kysely<DB>;
  /**
   * `Database.subscribe`/`notify`: a released lease is announced, and a
   * waiting replica takes it at once instead of at its next attempt.
   */
  subscribe?: (channel: string, handler: (payload: string) => void) => Promise<() => Promise<void>>;
  notify?: (channel: string, payload: string) => Promise<void>;
  /** This replica's identity: the owner of every lease its workers take (a uuid; random by default). */
  owner?: string;
  log?: Logger;
}

export interface WorkerStats {
  name: string;
  ticks: number;
  failures: number;
  lastError: string | null;
  /** The singleton's lease name, and whether this replica holds it now. */
  lease: { name: string; held: boolean } | null;
}

interface Slot {
  worker: Worker;
  started: boolean;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  abort: AbortController | null;
  ticks: number;
  failures: number;
  lastError: string | null;
  lease: LeaseKeeper | null;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Settles with true when `work` does within `ms`, false when the time runs out first. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a replica's workers: starts them in the order added, ticks them,
 * halts them all at once when the server starts closing, and stops them in
 * reverse order within a deadline. A singleton's lease is kept by a
 * LeaseKeeper (lease-keeper.ts) and the worker ticks only while it is held;
 * a worker that finished stopping has its lease released, so another replica
 * takes the job at once. A tick or a stop that fails is logged and counted;
 * the process goes on.
 */
export class Workers {
  readonly owner: string;
  readonly holder = `${hostname()} pid ${process.pid}`;
  private readonly slots: Slot[] = [];
  private halted = false;
  private stopping: Promise<void> | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(private readonly opts: WorkersOptions) {
    this.owner = opts.owner ?? randomUUID();
  }

  add(worker: Worker): this {
    const slot: Slot = {
      worker,
      started: false,
      timer: null,
      running: null,
      abort: null,
      ticks: 0,
      failures: 0,
      lastError: null,
      lease: null,
    };
    if (worker.lease) {
      slot.lease = new LeaseKeeper({
        db: this.opts.db,
        ...worker.lease,
        owner: this.owner,
        holder: this.holder,
        notify: this.opts.notify,
        onTaken: () => {
          this.opts.log?.info({ worker: worker.name, lease: worker.lease?.name }, "workers: lease taken");
          this.schedule(slot);
        },
        onLost: (why) => {
          slot.abort?.abort();
          this.opts.log?.warn(
            { worker: worker.name, lease: worker.lease?.name },
            `workers: lease lost: ${why}`,
          );
        },
        onError: (err, what) => this.failed(slot, err, what),
      });
    }
    this.slots.push(slot);
    return this;
  }

  /** Starts every worker in order; if one fails to start, the ones started are stopped and the error thrown. */
  async start(): Promise<void> {
    if (this.opts.subscribe && this.slots.some((s) => s.lease)) {
      try {
        this.unsubscribe = await this.opts.subscribe(LEASE_CHANNEL, (name) => this.released(name));
      } catch (err) {
        // The periodic attempts still take a released lease, a third of its ttl later at most.
        this.opts.log?.warn({ err }, "workers: could not listen for released leases");
      }
    }
    for (const slot of this.slots) {
      try {
        await slot.worker.start?.();
      } catch (err) {
        await this.stop();
        throw err;
      }
      slot.started = true;
      // A singleton's first tick comes when it takes its lease.
      if (slot.lease) await slot.lease.start();
      else this.schedule(slot, slot.worker.intervalMs);
    }
  }

  /** No more ticks, lease attempts or new work; returns at once. */
  halt(): void {
    if (this.halted) return;
    this.halted = true;
    for (const slot of [...this.slots].reverse()) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.lease?.halt();
      slot.abort?.abort();
      if (!slot.started) continue;
      try {
        slot.worker.halt?.();
      } catch (err) {
        this.failed(slot, err, "could not halt");
      }
    }
  }

  /**
   * Halts, then stops each worker in reverse order: waits for its tick in
   * progress, calls its `stop`, releases its lease. Whatever is not done by
   * `deadline` (Date.now() terms) is logged and left; a lease whose work is
   * still running then is not released but left to expire, so the job never
   * runs on two replicas at once.
   */
  stop(deadline = Date.now() + 10_000): Promise<void> {
    this.stopping ??= (async () => {
      this.halt();
      for (const slot of [...this.slots].reverse()) {
        if (!slot.started) continue;
        const stopped = (async () => {
          await slot.running;
          await slot.lease?.settled();
          try {
            await slot.worker.stop?.();
          } catch (err) {
            this.failed(slot, err, "could not stop");
          }
        })();
        if (!(await within(stopped, deadline - Date.now()))) {
          this.failed(slot, new Error("not stopped by the shutdown deadline"), "left running");
          continue;
        }
        const lease = slot.lease;
        if (!lease) continue;
        // Released even when the deadline has just passed: a quick statement that saves the others a ttl.
        if (!(await within(lease.release(), Math.max(250, deadline - Date.now()))))
          this.opts.log?.warn(
            { worker: slot.worker.name, lease: lease.name },
            "workers: lease left to expire",
          );
      }
      await this.unsubscribe?.().catch(() => {});
    })();
    return this.stopping;
  }

  /** Whether this replica holds the lease `name` now. */
  holds(name: string): boolean {
    return this.slots.some((s) => s.lease?.name === name && s.lease.held());
  }

  stats(): WorkerStats[] {
    return this.slots.map((s) => ({
      name: s.worker.name,
      ticks: s.ticks,
      failures: s.failures,
      lastError: s.lastError,
      lease: s.lease ? { name: s.lease.name, held: s.lease.held() } : null,
    }));
  }

  private failed(slot: Slot, err: unknown, what: string) {
    slot.failures++;
    slot.lastError = message(err);
    this.opts.log?.warn({ err, worker: slot.worker.name }, `workers: ${slot.worker.name}: ${what}`);
  }

  private schedule(slot: Slot, delayMs = 0) {
    if (this.halted || !slot.worker.tick) return;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = setTimeout(() => this.tick(slot), delayMs);
    slot.timer.unref();
  }

  private tick(slot: Slot) {
    slot.timer = null;
    if (this.halted || slot.running || !slot.worker.tick) return;
    // A singleton that lost its lease ticks again once it takes it back (onTaken schedules that).
    if (slot.lease && !slot.lease.held()) return;
    const began = Date.now();
    const abort = new AbortController();
    slot.abort = abort;
    slot.running = (async () => {
      try {
        await slot.worker.tick?.(abort.signal);
        slot.ticks++;
      } catch (err) {
        this.failed(slot, err, "tick failed");
      }
    })().finally(() => {
      slot.running = null;
      slot.abort = null;
      this.schedule(slot, Math.max(0, (slot.worker.intervalMs ?? 0) - (Date.now() - began)));
    });
  }

  /** Another replica released `name`: take it now if this one runs that job. */
  private released(name: string) {
    if (this.halted) return;
    for (const slot of this.slots) {
      if (slot.started && slot.lease?.name === name && !slot.lease.held()) void slot.lease.attempt();
    }
  }
}
